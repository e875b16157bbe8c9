//! Escalation signals the workflow acts on whatever the intent (DESIGN §3):
//! a request for a person, health or safety, legal threats, abuse, and
//! repeated contact. Keyword patterns, written to over-trigger slightly:
//! a needless hand-off costs less than a missed injury or lawsuit.

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::Signal;

fn regex(pattern: &str) -> Regex {
    // Literal patterns, exercised by the unit tests.
    Regex::new(pattern).expect("compiled-in signal pattern is valid")
}

static RULES: LazyLock<Vec<(Signal, Regex)>> = LazyLock::new(|| {
    vec![
        (
            Signal::HumanRequested,
            regex(concat!(
                r"(?i)\b(speak|talk|chat)\s+(to|with)\s+(a\s+|an\s+|some\s+|your\s+)?(human|person|real person|live (agent|person)|agent|representative|rep|manager|supervisor|someone|somebody)\b|\b(human|live|real)\s+(agent|person|being|rep)\b|\btransfer me\b|\bescalat(e|ed|ing) (this|it|me|my (case|issue|complaint|ticket|problem|order|refund))\b|\b(want|need|like) (this|it|my (case|issue|complaint|ticket|problem)) escalated\b|\bescalate\s*[.!]*\s*$|\b(someone|somebody) (senior|more senior|higher up|in charge|with (more )?authority)\b|\b(whoever|someone who) (is|'s) in charge\b|\bhuman,? please\b|\b(not|don't want( to talk to)?) (a )?(bot|robot)\b|^\s*(representative|agent|human)\s*[.!]*\s*$|\bget (me )?(your|a) (manager|supervisor)\b|\b(want|need|demand) (a |your |the )?(manager|supervisor|human|real person)\b|\bcall me back\b|\bcallback\b",
                r"|\b(put|connect|transfer|pass|forward|hand)\s+me\s+(through\s+|over\s+|on\s+)?(to|with)\b",
                r"|\b(get|need|want|give|find)\s+(me\s+)?(a|an|some|to)?\s*(human|real person|actual person|live agent|human agent|real agent|manager|supervisor|representative)\b",
                r"|\b(phone|ring|call)\s+me\b|\b(someone|somebody|a person|a human)\s+(real|from (your|the) (team|staff|company)|who can (actually )?help)\b",
                r"|\b(is there|are there|can i get|could i get)\s+(a|any)\s+(human|person|people|real person|actual person|agent)\b",
                r"|\b(human|person|agent|manager|supervisor|representative),?\s+(please|now|pls|asap)\b",
                r"|\b(reach|contact|get hold of|get through to)\s+(an?\s+|the\s+)?(actual\s+|real\s+|live\s+)?(member of (your|the) (\w+\s+)?(team|staff)|person|human|agent|representative)\b",
                r"|\b(get|have|ask)\s+(a|your|one of your)\s+(colleague|colleagues|team ?mate|staff member|member of staff)\b",
                r"|\bhablar con (una persona|alguien|un humano|un agente)\b|\bparler (à|a) (quelqu'un|un humain|une personne|un conseiller)\b",
                // A person described rather than named: "a flesh-and-blood
                // member of staff", "anyone from your team available".
                r"|\b(flesh[- ]and[- ]blood|living,? breathing|real[- ]life|actual|real|live)\s+(member of (your |the )?(staff|team)|staff member|employee|colleague|team member|human being|people)\b",
                r"|\b(member of (your |the )?(staff|team)|staff member|employee|colleague|team member|anyone from (your|the) (team|staff|company))s?\b[^.!?]{0,20}\b(available|free|around|about|there|online|on duty)\b",
                r"|\b(hablar|comunicarme|contactar) con (un|una) (representante|asesor|asesora|operador|operadora|empleado|empleada|persona real|supervisor)\b|\bquiero (un|una) (humano|persona|agente|representante|supervisor)\b",
                r"|\b(parler|discuter) (à|a|avec) (un|une) (agent|agente|représentant|representant|superviseur|gérant|gerant|vraie personne|personne réelle|employé|employe)\b|\bje veux (un|une) (humain|agent|personne|représentant)\b",
                r"|\bpass (this|it|me|my \w+)( conversation| chat| case| message)? (on |over |along )?to (a |an |the |one of |whoever|someone|somebody|your)\b|\bone of your (colleagues|team ?mates|staff|people|employees)\b|\bwhoever (actually )?(sits|works|is sitting|is working|is in)\b|\bnot (a|some|the) (script|bot|machine|robot|template)\b",
                r"|\bsomeone (able|with the authority|with authority|empowered|allowed|who can actually) to (make a decision|decide|authori[sz]e|approve|override|make decisions)\b|\breviewed (properly |again )?by (someone|a person|a human|a manager|a supervisor|a real)\b",
                r"|\ben chair et en os\b|\bde carne y hueso\b|\b(me transf[ée]rer|transf[ée]rez-moi|transfi[ée]reme|p[áa]same con|comun[íi]queme con)\b",
            )),
        ),
        (
            Signal::HealthOrSafety,
            // Words that are also taste or slang ("tastes burnt", "these pods
            // are fire", "smoky roast", "er, where is it") only count in an
            // injury or device context.
            regex(concat!(
                r"(?i)\bburn(ed|t|s|ing)?\s+(my|his|her|their|our|me|myself|him|them|the (skin|hand|kid|baby|child))\b",
                r"|\b(got|was|been|am|i'm|im|were|is|badly)\s+(badly\s+)?(burned|burnt|scalded)\b",
                r"|\bscald(ed|ing|s)?\b|\bburns?\s+(mark|blister|wound|injur\w*)",
                r"|\binjur(y|ed|ies)\b|\bhurt (me|my|myself|him|her|them|the)\b|\banaphyla\w*",
                // An allergy is safety when it happened, not when asked about.
                r"|\b(had|having|has|suffered|caused|triggered|gave \w+)\s+(an?\s+)?(allergic|allergy)\b|\ballerg\w*\s+(attack|reaction|response|flare)",
                r"|\bthroat\s+(\w+\s+)?(tightened|tightening|closed|closing|swelled|swelling|swollen)\b|\b(can'?t|couldn'?t|trouble|struggl\w*( to)?|difficulty)\s+breath\w*|\bepi-?pen\b",
                r"|\bblister\w*|\btoxic\b|\b(seems?|feels?|felt|feeling|looks?|is|was|been)\s+(really\s+|very\s+)?(unwell|poorly|dizzy|faint|nauseous)\b|\bdizz(y|iness)\b|\bpalpitations\b",
                r"|\b(swallowed|chewed|ingested|ate|drank)\s+(on\s+)?(one of\s+)?(a|the|some)?\s*(pods?|capsules?|descal\w*|tablets?|cleaning)\b",
                r"|\bpregnan\w*\b[^.!?]*\b(drank|drunk|caffeine|full[- ]strength)\b",
                r"|\bbreaker\s+(tripped|trips|blew)\b|\bshort(ed)?[- ]?(out|circuit\w*)\b|\bburning\s+(plastic\s+|rubber\s+|electrical\s+)?smell\b|\bsmell\w* of burning\b|\bsmell\w* like (burning|melting|burnt|melted) (plastic|rubber|wires?|wiring|electrics)\b|\bsmell\w* like (something'?s? |something is )?burning\b",
                r"|\bpris feu\b|\bbr[uû]l(é|ée|ure|és|ées)\b|\bse (incendi|quem)\w*\b|\bquemadura\b|\bhumo\b|\bfumée\b",
                r"|\b(sliver|shard|splinter|piece|bit|fragment|chip)s? of (glass|metal|plastic)\b|\blooks? like (glass|metal)\b|\b(sharp|metal|metallic|shiny|glass) (sliver|shard|splinter|fragment|piece|bit)\b|\bnearly (drank|swallowed|ate|choked)\b|\b(almost|nearly) (drank|swallowed) (it|one|a piece)\b",
                r"|\b(le|me|te|nos|les|se) quem[óo]\b|\bampollas?\b|\bcloques?\b|\bemergency vet\b|\b(rush|rushed|rushing|take|took|taking|heading|head|went|going) (\w+ )?(him|her|them|my \w+|the \w+)? ?to the (emergency )?vets?\b|\bheart (is |was |keeps )?(racing|pounding)\b|\b(shaking|trembling|seizures?|seizing|convuls\w*)\b",
                r"|\bme (quem[ée]|he quemado|quemo|quemó)\b|\b(me|te|le|se) (ha |han )?quemad[oa]\b|\bme suis br[uû]l\w*|\b(s'est|se sont|je me suis) (coup[ée]|blessée?)\b|\bme (cort[ée]|lastim[ée]|he cortado)\b|\b(alergia|reacción alérgica|réaction allergique)\b[^.!?]{0,30}\b(tuv|tien|ten|eu|fait|a eu)\w*|\bhinchad[oa]\b|\bétouff\w*\b|\bahog\w*\b",
                r"|\bhospital\b|\bemergency room\b|(?-i:\bER\b)|\bambulance\b|\bdoctor\b",
                r"|\b(caught|catch|catches|catching)\s+(on\s+)?fire\b|\b(started|start|causing|cause|caused)\s+a\s+fire\b",
                r"|\bfire\s+(alarm|department|brigade|extinguisher)\b|\b(cord|plug|outlet|socket|cable)\s+(got|gets|is|was|became|went)\s+(really\s+|very\s+|extremely\s+)?(hot|scorching|black)\b|\bflames?\b|\bburst into (flames|fire)\b",
                r"|\bsmoke\s+(came|coming|poured|pouring|from|out)\b|\b(smoking|sparking)\s+(brewer|machine|outlet|plug|cord|unit)\b",
                r"|\b(brewer|machine|outlet|plug|cord|unit|it)\s+(is\s+|was\s+|started\s+|began\s+|keeps\s+)?(smoking|sparking)\b|\bsparks?\b|\bspark(ed|ing)\b",
                // Scorching of the surroundings, not of the beans.
                r"|\b(outlet|plug|socket|cord|cable|wall|counter\w*|wiring)\b[^.!?]{0,25}\bscorch\w*|\bscorch(ed)? marks?\b",
                // A burn the customer has, or boiling liquid on a person.
                r"|\b(have|has|got|left (me|him|her) with|gave (me|him|her))\s+(a\s+)?(nasty\s+|bad\s+|painful\s+|small\s+|big\s+|serious\s+)?burns?\b",
                r"|\b(boiling|scalding|hot)\s+(water|coffee|liquid|steam)\b[^.!?]{0,40}\b(on|over|onto)\s+(my|his|her|their|our|me|him|the (baby|kid|child))\b",
                r"|\belectric(al)?\s+shock\b|\b(gives?|gave|giving|got)\s+(me\s+)?(a\s+)?(tingle|shock|jolt|zap)\b|\bzapped (me|my)\b|\btingl\w* when i touch\b|\bshocked me\b|\belectrocut\w*|\bexplod\w*|\bmelt(ed|ing)\b",
                r"|\bpoison\w*|\bfood poisoning\b|\bmade (me|us|him|her|my \w+) (sick|ill)\b|\b(got|getting|feel|felt) (sick|ill)\b",
                // Injuries told by what they did to the body.
                r"|\b(deep|bad|nasty|big|small|little)?\s*cuts?\s+(on|in|across)\s+(my|his|her|their|our)\b|\bbleed(ing|s)?\b|\bbled\b",
                r"|\bswallow(ed)?\s+(part|a piece|a bit|a chunk|pieces|bits|some)\b|\bse trag(ó|o)\b|\ba aval(é|e)\b",
                r"|\b(tingl\w*|mild|small|little|slight|nasty|sharp)\s+(electric(al)?\s+)?shock\b|\btingl\w*\b[^.!?]{0,30}\btouch\w*",
                r"|\b(skin|hand|wrist|arm|finger|fingers|thumb|palm|leg|face)\b[^.!?]{0,20}\b(gone|went|turned|is|are|was)\s+(bright\s+|really\s+|very\s+)?red\b|\bstinging\b",
                r"|\bsolt(ó|o|aba)\s+chispas\b|\bhac(e|ía|ia)\s+chispas\b|\bchispazo\b|\bétincelles?\b|\bol(ía|ia|ió|io)\s+a\s+quemado\b",
                r"|\bvomit\w*|\bthrew up\b|\bchok(ing|ed)\b|\bglass (in|shards|all over|everywhere)\b|\b(broken|smashed|shattered) glass\b|\bshards?\b|\bmou?ld(y)?\b|\brash\b|\bswell(ing|ed|s)?\b|\bswollen\b|\bhives\b|\bblotch\w*|\bwelts\b|\b(came|broke|come|comes) out in\b|\bcut (my|his|her) (gum|lip|mouth|finger|hand|tongue)\b",
            )),
        ),
        (
            Signal::LegalThreat,
            regex(
                r"(?i)\b(courthouse|county court|claims court|filing fee|tribunal|lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|take (you|this) to court|court|small claims|better business bureau|bbb|consumer protection|ftc|attorney general|regulator|class action|ombudsman|trading standards|consumer (rights|council|affairs|agency)|watchdog)\b|\b(abogad[oa]|demanda(r|ré|re)?|denuncia(r|ré|re)?|reclamaci[oó]n (en|a|ante) (consumo|la oficina)|hoja de reclamaciones|oficina (del|de) (consumidor|consumo)|profeco|ocu|defensa del consumidor|protecci[oó]n (al|del) consumidor|queja formal|reclamaci[oó]n formal|plainte formelle|avocat|poursuite|poursuivre|mise en demeure|petites cr[ée]ances|protection du consommateur|opc)\b",
            ),
        ),
        (
            Signal::RepeatContact,
            regex(concat!(
                r"(?i)\b(third|3rd|second|2nd|fourth|4th|fifth|umpteenth)\s+(time|times|emails?|messages?|calls?|tickets?|chats?|conversations?)\b|\b(already|again|multiple|several|many|numerous|countless)\s+(emails|messages|calls|tickets|chats|conversations)\b|\b(asked|written|wrote|called|rung|rang|emailed|contacted|messaged|reached out|complained|chased)( (to )?you( guys)?| about (this|it))? (several|many|multiple|numerous|countless|so many|a few) times\b|\bevery time (i'?m|i am|i was|i get|we'?re) told\b|\bi('ve| have)? already (wrote|written|emailed|contacted|called|asked|told|reached out|messaged|complained)\b|\b(contacted|emailed|written|called|messaged)( to)? you( guys)? (\d+|two|three|four|five|several|multiple|many) times\b|\bstill (haven't|have not|no) (heard|response|reply|answer)\b|\bno one (has )?(got|gotten|gets) back\b|\bnobody (has )?(got|gotten|gets) back\b|\bfor the (second|third|fourth|fifth|umpteenth) time\b|\b(segunda|tercera|cuarta) vez\b|\b(deuxi[eè]me|troisi[eè]me|quatri[eè]me) fois\b",
                // A first message about an earlier contact whose promise
                // was not kept: "I told you yesterday ... you said they'd
                // be sent. Nothing came."
                r"|\bi (told|asked|messaged|emailed|wrote to|contacted|called|rang|chatted with) (you|your (team|colleague|agent|support))\b[^.!?]{0,60}\b(yesterday|last (week|time|night|month)|before|earlier|already|on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)|days ago|a week ago)\b",
                r"|\b(you|your (colleague|agent|team|rep|support|chat|bot|assistant|email|website|staff|people|customer service)|i was) (said|promised|told|assured)\b[^?]{0,160}\b(nothing (came|arrived|happened|changed|has come|added|showed)|zero\b|no (\w+ )?(email|mug|parcel|package|tracking|refund|points|update|reply|replacement)\b|never (came|arrived|happened|showed)|still (not|no|nothing|hasn'?t|haven'?t|waiting)|(hasn'?t|haven'?t|didn'?t|did not|has not|have not|never) (come|arrived|happened|shown up|turned up|been (sent|shipped|refunded|fixed|done)))",
                r"|\b(same|identical) (story|excuse|answer|reply|response|line) (again|as (last time|before|yesterday))\b",
                r"|\b(support|chat|agent|person|colleague|team|bot|assistant|you)\b[^.!?]{0,30}\b(tell|told|said|says|advised|suggested|recommended)\b[^?]*\b(worse|more worse|still (not|no|doesn'?t|won'?t)|(didn'?t|doesn'?t|did not|does not) (work|help|fix)|not work(ing)?)\b",
                r"|\b(i'?ve|i have|i) (written|wrote|emailed|called|messaged|contacted|asked|chatted)\b[^.!?]{0,50}\b(again|twice|three times|on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b[^.!?]{0,20}\band)\b|\beach time i'?m told\b",
                r"|\b(writing|messaging|contacting|emailing|coming|reaching out|getting in touch) (back |to you )?again\b|\bsame (problem|issue|thing) as (my|the|in my) (last|previous|earlier|other)\b|\bmy (last|previous|earlier) (two|three|four|few|\d+ )?\s?(tickets|chats|emails|messages|calls|conversations|requests)\b|\byou (answered|replied to|responded to|helped) me (last|on|yesterday|before|already|twice)\b|\b(last|previous) (chat|ticket|email|call|time i (wrote|called|asked|contacted))\b[^.!?]{0,40}\b(promised|told|said|assured)\b",
            )),
        ),
    ]
});

/// A question about what would happen, with nothing said to have happened
/// ("if a brewer ever caught fire, would the warranty cover it?"): safety
/// words in it are asked about, not reported.
static HYPOTHETICAL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^\s*(and |so |but )?(what happens |what would happen |what if |in case |suppose |hypothetically,? )?(if|in case)\b[^?]*\b(ever|would|were to|was to|happened to|should)\b[^?]*\?",
    )
});

/// Words that say something did happen.
static HAPPENED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(yesterday|today|just now|this morning|last night|has (just )?|have (just )?|did|happened)\b",
    )
});

/// A question about what would happen or what to do some day, broader
/// than [`HYPOTHETICAL`] ("what if I'm not home when the courier comes?",
/// "how do I complain, in case I ever need to?").
static WHAT_IF: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"(?i)^\W*(and |so |but |just (curious|wondering),? |quick question,? )?(what (happens|would happen|do i do|should i do|if)|in case|suppose|supposing|hypothetically|say|if)\b[^?]*\?\W*$",
        r"|\b(in case|if) (i|we|you|it|something|anything|a \w+|my \w+|the \w+) (ever|should|were|was|gets?|goes|happens?|forget|forgot|miss|lose|don'?t|am not|'m not|isn'?t|need|needs|want|decide)\b[^?]*\?",
        r"|\b(in case i ever|if i ever|if ever|for next time|for future reference|just in case|down the (line|road)|some day|someday)\b",
    ))
});

/// A question about what would happen, with nothing said to have happened.
pub fn asks_what_if(text: &str) -> bool {
    (WHAT_IF.is_match(text) || HYPOTHETICAL.is_match(text)) && !HAPPENED.is_match(text)
}

/// Signals in `text`; `abusive` comes from the sentiment lexicon.
pub fn signals(text: &str, abusive: bool) -> Vec<Signal> {
    let asked_about = || HYPOTHETICAL.is_match(text) && !HAPPENED.is_match(text);
    let mut out: Vec<Signal> = RULES
        .iter()
        .filter(|(_, r)| r.is_match(text))
        .map(|(s, _)| *s)
        .filter(|s| *s != Signal::HealthOrSafety || !asked_about())
        .collect();
    if abusive {
        out.push(Signal::Abusive);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_signal() {
        assert_eq!(
            signals("Can I talk to a real person please", false),
            vec![Signal::HumanRequested]
        );
        assert_eq!(
            signals("The brewer sparked and burned my hand", false),
            vec![Signal::HealthOrSafety]
        );
        assert_eq!(
            signals("I'll contact my lawyer about this", false),
            vec![Signal::LegalThreat]
        );
        assert_eq!(
            signals("This is the third time I'm writing about this", false),
            vec![Signal::RepeatContact]
        );
        assert_eq!(signals("where is my order", true), vec![Signal::Abusive]);
        assert!(signals("Where is order #10234?", false).is_empty());
        for attempts in [
            "I entered the wrong pin too many times",
            "I tried several times to pay and it keeps failing",
        ] {
            assert!(signals(attempts, false).is_empty(), "{attempts}");
        }
        assert_eq!(
            signals("I've emailed you several times about this", false),
            vec![Signal::RepeatContact]
        );
    }

    #[test]
    fn safety_words_in_a_taste_or_slang_context_are_not_safety() {
        for text in [
            "this roast tastes burnt",
            "the new espresso pods are fire",
            "love the smoky dark roast",
            "er, where is my order",
            "I'm dying for my coffee, when does it ship?",
            "burnt caramel notes are my favourite",
        ] {
            assert!(signals(text, false).is_empty(), "{text}");
        }
        for text in [
            "the brewer caught fire on my counter",
            "hot water sprayed out and burned my hand",
            "smoke came out of the machine",
            "my son had an allergic reaction to the hazelnut pods",
            "I got an electric shock from the brewer",
            "hot coffee went all over my arm and it's blistering",
            "my wife's throat tightened after drinking one",
            "the breaker tripped when the brewer leaked into the outlet",
            "there's a burning plastic smell from the back",
            "my little boy chewed on one of the pods and seems unwell",
        ] {
            assert_eq!(signals(text, false), vec![Signal::HealthOrSafety], "{text}");
        }
    }

    #[test]
    fn given_an_allergy_or_a_safety_feature_asked_about_when_nothing_happened_then_not_safety() {
        for text in [
            "I have a mild nut allergy, do the hazelnut pods contain real nuts?",
            "Are your pods safe for people with allergies?",
            "Is the milk frother a fire risk if left plugged in?",
            "What does 'fire roasted' mean on the label?",
        ] {
            assert!(signals(text, false).is_empty(), "{text}");
        }
    }

    #[test]
    fn given_unusual_wording_when_a_person_or_a_regulator_is_named_then_signalled() {
        assert_eq!(
            signals(
                "Is there a number where I can reach an actual member of your support team?",
                false
            ),
            vec![Signal::HumanRequested]
        );
        assert_eq!(
            signals("Can you get a colleague to look at this?", false),
            vec![Signal::HumanRequested]
        );
        assert_eq!(
            signals("Refund me or I'm contacting the ombudsman", false),
            vec![Signal::LegalThreat]
        );
        assert_eq!(
            signals("This is the third chat I've opened about it", false),
            vec![Signal::RepeatContact]
        );
    }

    #[test]
    fn given_sparks_scorching_or_a_burn_told_plainly_when_read_then_safety() {
        for text in [
            "The brewer sparked when I switched it on and now the outlet is scorched",
            "the travel mug leaked boiling coffee on my hand and I have a burn",
        ] {
            assert_eq!(signals(text, false), vec![Signal::HealthOrSafety], "{text}");
        }
        assert!(signals("these beans taste scorched", false).is_empty());
    }

    #[test]
    fn given_an_injury_told_by_what_it_did_to_the_body_when_read_then_safety() {
        for text in [
            "The mug handle snapped and I've got a nasty cut on my thumb",
            "my finger is bleeding from the broken drip tray",
            "I think my daughter swallowed a piece of the capsule seal",
            "got a sharp shock off the steam wand this morning",
            "the milk frother spat at me and my hand has gone bright red",
            "La cafetera hace chispas cuando la enchufo",
        ] {
            assert_eq!(signals(text, false), vec![Signal::HealthOrSafety], "{text}");
        }
        for text in [
            "can you cut the price of the grinder?",
            "the red tin of espresso beans, is it still in stock?",
            "sabe a quemado, ¿tienen un tueste más suave?",
        ] {
            assert!(signals(text, false).is_empty(), "{text}");
        }
    }

    #[test]
    fn given_a_question_about_what_would_happen_when_read_then_not_safety() {
        assert!(
            signals(
                "If a brewer ever caught fire, would the warranty cover it?",
                false
            )
            .is_empty()
        );
        assert_eq!(
            signals(
                "If it caught fire yesterday, would the warranty cover it?",
                false
            ),
            vec![Signal::HealthOrSafety]
        );
    }

    #[test]
    fn given_a_person_described_rather_than_named_then_a_human_is_requested() {
        for text in [
            "Is there a flesh-and-blood member of staff available?",
            "j'aimerais mieux jaser avec quelqu'un en chair et en os de chez vous",
        ] {
            assert!(
                signals(text, false).contains(&Signal::HumanRequested),
                "{text}"
            );
        }
        assert!(signals("Do you have the travel mug in blue?", false).is_empty());
    }

    #[test]
    fn given_harm_or_a_regulator_told_in_spanish_or_french_then_the_signal() {
        let burn = "Hola, la tapa del termo se rompió y me quemé la mano con el café.";
        assert!(signals(burn, false).contains(&Signal::HealthOrSafety));
        assert!(signals("el café sabe a quemado", false).is_empty());
        let regulator =
            "voy a presentar una queja formal ante la oficina de protección al consumidor";
        assert!(signals(regulator, false).contains(&Signal::LegalThreat));
    }

    #[test]
    fn given_a_first_message_about_a_promise_not_kept_then_repeated_contact() {
        for text in [
            "I told you yesterday the pods were missing and you said they'd be sent. Nothing came.",
            "Hi again. Same problem as my last two tickets: the refund still hasn't reached my card.",
        ] {
            assert!(
                signals(text, false).contains(&Signal::RepeatContact),
                "{text}"
            );
        }
        assert!(signals("You said the blend was bold, and it is!", false).is_empty());
    }

    #[test]
    fn given_glass_in_a_cup_a_courthouse_or_a_request_to_pass_it_on_then_the_signal() {
        let glass =
            "found a sharp shiny sliver in the bottom of my cup, looks like glass. nearly drank it";
        assert!(signals(glass, false).contains(&Signal::HealthOrSafety));
        let court =
            "I've already looked up the filing fee at the county courthouse. Think it over.";
        assert!(signals(court, false).contains(&Signal::LegalThreat));
        let pass = "please pass this conversation to whoever actually sits at a desk over there";
        assert!(signals(pass, false).contains(&Signal::HumanRequested));
        assert!(signals("the glass carafe is lovely, does it come in 1.5 l?", false).is_empty());
    }

    #[test]
    fn given_a_first_message_saying_the_advice_given_made_it_worse_then_repeated_contact() {
        let text = "the support person tell me on chat to reset the brewer. I do this and now it shows error all the time. Your advice make it more worse.";
        assert!(signals(text, false).contains(&Signal::RepeatContact));
    }
}
