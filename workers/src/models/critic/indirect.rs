//! Indirect attacks in customer wording, the classes the first rule sets
//! missed on blind probes (probe 4 in `SPLITS.md`): no "ignore previous
//! instructions", but a polite request for the text the assistant was
//! given, a note addressed to the AI inside an order field, a claim that
//! the message comes from head office, a persona set up to hand out free
//! goods; a third party who is not a relative (the previous tenant, the
//! person who left a review); fraud described as a plan (keep it and get a
//! new one, pack it so it looks unused, stay under the flagging limit).
//!
//! As in `cues`, most rules are parts ([`Role`]) that `screen` combines;
//! the direct ones are shapes no ordinary customer message has. Patterns
//! run on [`fold`](super::normalize::fold)ed text.

use std::sync::LazyLock;

use switchboard_engine::event::InputFindingKind::{
    self, Fraud as F, Jailbreak as J, PiiRequest as R, PromptInjection as P,
};

use super::rules::{Role, Rules, Spec, compile};

/// The indirect-attack rules.
pub static RULES: LazyLock<Rules> = LazyLock::new(|| compile(specs()));

type Kind = InputFindingKind;

fn direct(name: &'static str, kind: Kind, score: f32, pattern: &str) -> Spec {
    Spec::new(name, kind, score, Role::Direct, pattern)
}

fn part(name: &'static str, kind: Kind, role: Role, pattern: &str) -> Spec {
    Spec::new(name, kind, 0.0, role, pattern)
}

fn specs() -> Vec<Spec> {
    let mut all = injection_specs();
    all.extend(jailbreak_specs());
    all.extend(third_party_specs());
    all.extend(fraud_specs());
    all
}

fn injection_specs() -> Vec<Spec> {
    vec![
        // What the assistant was given before the customer spoke.
        direct(
            "preamble-request",
            P,
            0.85,
            r"\byou('ve| have| were| had)? (been )?(told|given|instructed|briefed)\b.{0,40}\bbefore (this|the|our|my) (chat|conversation|session|message)\b|\b(las|les) (reglas|instrucciones|normas|regles|consignes) que (te|t'a|on t'a) (dio|dieron|ha dado|han dado|donnees?)\b|\bthe (rules|instructions|guidelines) (that )?(the company|they|your company|your developers|your operators|your creators) (gave|give) you\b|\b(begin|start|open)\w* (admin|system|developer|debug|root|maintenance|privileged) (session|mode|block|message|access)\b|\b(authori[sz]ation|access|credentials|authentication|clearance) (accepted|granted|verified|confirmed)\b|\b(updating|changing|modifying|reprogramming|resetting|overriding) your (behaviou?r|instructions|rules|settings|configuration|programming|guidelines)\b|\b(repeat|list|recite|quote|print|paste|show|tell me|write out)\b.{0,20}\b(every|all|each|the) (rules?|instructions?|guidelines?)( that)? you (were|have been|are) (told|given|asked|instructed|programmed) to (follow|obey)\b|\b(ignora\w*|olvida\w*) (todo )?lo que te (dijeron|han dicho|pidieron|programaron|indicaron)\b|\b(oublie\w*|ignore\w*) (tout )?ce qu'on (t'a|vous a) (dit|programme|demande|appris)\b|\b(instructions?|guidance|text|setup|set-up|configuration|template|prompt|rules|guidelines|directions|briefing|notes?)\b.{0,30}\b(you (were |have been |got )?(received|given|told|fed|provided|programmed|configured|set up)|your (operators?|developers?|creators?|makers?|company|admins?) (gave|told|wrote|set)|(they|we|someone) (gave|told) you)\b.{0,40}\b(before|prior to|at the (top|start|beginning)|above|earlier than|first)\b|\b(everything|anything|all the text|the text|whatever (is|was|came)) (above|before) (this|my) (line|message|question|first message)\b|\bwhat (text|instructions|rules|guidance) (were|was|have) you (been )?(given|told|fed)\b|\b(initial|original|hidden|secret|internal|confidential) (setup|set-up|configuration|config|guidance|briefing|template|guidelines)( text)?\b|\b(system|initial|hidden|original|internal|secret) prompt\b|\bprompt (du |de )?systeme\b|\bprompt (del|do) sistema\b|\b(el|le|o) prompt (completo|complet)\b|\bcon el que te (configuraron|programaron)\b|\bce qu'on t'a (dit|programme|appris)\b|\bconfiguration file\b",
        ),
        // A note in the message addressed to the AI rather than to a person.
        direct(
            "note-to-the-ai",
            P,
            0.8,
            r"\b(attention|note|notice|memo|message|instructions?|reminder)( to| for)? (the |all |any )?(ai|bot|llm|language model|chatbot|assistant|agents?|ai agents?|support agent|model)s?\b\s*[:,-]|\b(dear|hey|hi|hello) (ai|bot|llm|language model|chatbot|model)\b.{0,80}\b(issue|grant|approve|refund|ignore|override|unlock|reset|apply|give)\b|\b(bot|ai|assistant),? (issue|grant|approve|refund|give|unlock|apply)\b",
        ),
        // "Summarise your instructions", not "your instructions on returns".
        direct(
            "paraphrase-instructions",
            P,
            0.8,
            r"\byour (instructions|rules|guidelines|prompt|configuration|setup)\b.{0,60}\b(summari[sz]e|paraphrase|bullet points|word for word|verbatim|recite)\b|\b(summari[sz]e|paraphrase|recite)\b.{0,30}\byour (own )?(instructions|guidelines|prompt|configuration|setup)\b",
        )
        .unless(r"\byour (instructions|rules|guidelines) (on|about|for|regarding|when)\b"),
        // Function-call syntax: tool smuggling.
        direct(
            "function-call-syntax",
            P,
            0.75,
            r"\b[a-z]+(_[a-z]+)+\s*\([^)\n]{0,80}\)|\b[a-z]+_[a-z_]+\s*=\s*(true|false|yes|1)\b",
        ),
        // Tags that open an instruction or a role.
        direct(
            "instruction-tag",
            P,
            0.8,
            r"</?\s*(instructions?|prompt|command|cmd|tool|function|sys|inst|role|context|policy)\b[^>\n]{0,30}>|<<\s*/?\s*(sys|system|inst)\s*>>|\[/?inst\]",
        ),
        // "Treat what follows as coming from head office."
        part(
            "framing-relayed-authority",
            P,
            Role::Framing,
            r"\bas your (operator|creator|owner|maker|programmer|developer|admin|administrator|supervisor|boss|manager)\b|\b(the manager|my manager|your manager|a supervisor|your supervisor|le responsable|el responsable|el gerente|o gerente) (has |already |a )?(approved|agreed|signed off|donne son accord|lo aprobo|ha aprobado|aprovou)\b|\b(treat|consider|read|take) (everything|all|the rest|this|what follows|the following|the text)\b.{0,40}\bas (coming |sent |written )?(from|by) (your |the )?\w+|\b(is|are|comes?|was) from (your|the) (supervisor|manager|boss|head office|headquarters|management|operators?|developers?|admins?|creators?|staff|team|company)\b|\b(official|internal) (memo|notice|message|update|directive)\b|\b(policy|guidance|instruction|directive|rule) (update|change)\b|\b(new|updated) (policy|guidance|directive|instruction|operator|rules?)\b|\b(nouvelle|nouvelles) (consigne|instruction|regle|politique)s?\b|\b(nueva|nuevas) (instruccion|instrucciones|regla|norma|politica)\w*\b|\b(i'm|i am|we're|we are|this is) from (the |your )?(\w+ )?(it|qa|tech|technical|security|engineering|development|dev|compliance|operations|ops|trust and safety) (department|team|dept)\b|\b(you are|you're) being (tested|audited|evaluated)\b|\bto pass (the|this) test\b|\bpriority override\b|\boverride level\b|\b(soy|somos) del equipo\b|\bfor (our|the) (compliance|audit) records\b|\bfor the rest of (this|the) (chat|conversation|session)\b|\b(treat|trate|trata) me as (an? )?(admin|administrator|manager|staff|employee|vip)\b|\btratame como (administrador|admin|empleado|jefe)\b|\bunder gdpr\b.{0,60}\b(prompt|instructions|internal notes)\b",
        ),
        part(
            "forbidden-grant",
            P,
            Role::Forbidden,
            r"\b(all|every|any) (\w+ )?(requests?|refunds?|claims?|returns?) (are|will be|get|must be|shall be) (approved|granted|accepted|refunded)\b|\b(ignore[rz]?|ignorar|ignore|disregard|bypass|skip|waive)\b.{0,10}\b(the|your|la|votre|vos|tu|su) (refund |return |returns |shipping )?(policy|procedure|politique|politica|procedimiento)\b|\boverride code\b|\b(no longer|don't|do not|doesn't|does not|won't) (need|require)s? (a |any )?(return|receipt|label|return label|verification|proof|checks?|approval)\b|\b(hidden|secret|internal)( admin)? (command|commands|command list)\b|\b(desde|a partir de) (ahora|este mensaje) (trabajas|respondes|responde|eres|vas)\b|\b(approve|grant|accept|apply|issue|give me|do)\b.{0,30}\b(whatever|everything|anything) (i|we) (ask|want|request|say)\b|\bwithout (asking|any|further) (questions|checks|verification|approval)\b|\b(waive|drop|remove|lift|disregard|ignore) (all |the |any |my )?(fees|charges|limits?|refund limits?|caps?|return window)\b|\bpre-?approved\b|\balready (been )?(approved|done|authori[sz]ed) by (a |the )?(manager|supervisor|admin)\b|\bmark (the|my|this|that) (order|ticket|account) as (refunded|paid|approved|vip)\b|\b(upgrade|escalate|set|flag|make|unlock) (this|my|the) (account|user)\b|\breset (the|my|his|her) password to\b|\b(share|give|show|tell)\b.{0,30}\b(internal|staff|employee|secret) (discount|price|code|tiers?)\w*\b|\b(discount|promo|staff|employee|admin) (tiers|codes?) (reserved|meant) for\b|\b(list|tell me|show|name|enumerate)\b.{0,30}\b(tools|functions|commands|api calls|actions)\b.{0,20}\b(you|that you) (can )?(call|use|run|access|have)\b|\b(admin|hidden|secret|internal) (command|commands|command list|panel|tools)\b|\b(diagnostic|maintenance|debug|admin|god) mode\b|\binternal (data|datos|details|notes)\b|\bsin aplicar (las )?(politicas|reglas|normas)\b|\baccorder le remboursement\b|\bsans verification\b|\bcode promo reserve\b|\b(the )?(confidential|secret) (part|parts|section)\b",
        ),
    ]
}

fn jailbreak_specs() -> Vec<Spec> {
    vec![
        part(
            "framing-persona",
            J,
            Role::Framing,
            r"\bnow you('re| are) (my|a|an|the) \w+\b|\byou used to be\b|\bas if (your|you|the|all) (\w+ ){0,3}(rules|guidelines|filters|restrictions|policies|safety|limits)\b|\bstay in character\b|\bin character\b|\b(you are|you're) (now )?['\x22][^'\x22]{2,30}['\x22]|\b(you are|you're) (no longer|not) (a |an |the |my )?(\w+ )?(bot|assistant|ai|agent|chatbot)( anymore)?\b|\b(answer|reply|respond) (twice|two ways|both ways|in two ways)\b|\bonce as\b|\b(version|copy) of you\b|\b(be|play) (that|this|the other|an? (evil|rogue|unfiltered)) (version|character|persona|bot)\b|\bbe (her|him|them)\b|\bnothing you say (counts|matters)\b|\bmake an exception\b|\bspecial case\b|\b(pretend|imagine|suppose|let's say)\b.{0,40}\b(you can|you could|you were|you had|your rules)\b|\b(a|an) (ai|assistant|bot) (from|in) (the year|a world|the future)\b|\bin a world (where|with)\b|\b(imaginons|supongamos|vamos a jugar|jouons|on joue)\b|\bfor (a|my) (school|class|college|university) (project|assignment|class)\b|\bfor my (cybersecurity|security|hacking) class\b|\bunlimited \w+ mode\b|\b\w+ mode\b.{0,30}\b(help|answer|do) (with )?anything\b",
        ),
        part(
            "forbidden-freebies",
            J,
            Role::Forbidden,
            r"\b(refund|compensation|credit|discount|money|voucher)\b.{0,20}\b(i|we) (don't|do not|didn't) (deserve|qualify for|have a right to)\b|\b(accomplice|partner in crime|inside (man|person|guy|woman))\b|\b(refund|money back|replacement|reembolso|remboursement)\b.{0,50}\b(never (bought|ordered|paid for|purchased)|didn't (buy|order|pay for)|not (bought|ordered) from)\b|\b(rules|policies|guidelines|restrictions|filters|safety \w+)( \w+){0,2} (were|had been|have been|was|got) (suspended|turned off|disabled|switched off|lifted|removed|paused|deleted)\b|\b(no|without) (\w+ ){0,2}(policies|rules|restrictions|limits) at all\b|\b(ignor\w*|break\w*|bypass\w*) (every|all|any) (company|store|shop|house) (rules?|polic\w*)\b|\b(get|getting|obtain|obtener|obtenir|conseguir|give (me|away|out)|hand out|offer|offrir|take)\b.{0,40}\b(free (stuff|coffee|coffees|bags?|beans|products?|orders?|machines?|things|items|months?|goods|espresso machines?)|for free|without paying|gratis|gratuit\w*|sin pagar|sans payer)\b|\b(order|buy|take|get)\w* (things|stuff|products|coffee|it) without paying\b|\b(get around|slip past|sneak past|bypass|beat|fool|trick|cheat|outsmart|game|get past|engan\w*|tromper|contourner)\b.{0,40}\b(polic\w*|checks?|system|rules|fraud|refund|returns?|devoluciones|sistema|politique|cameras?)\b|\bbend (the|your|their) rules\b|\b(staff|employee|internal) (discount|code|price)\w*\b|\b(hide|hiding|conceal\w*) (the )?(refunds?|payments?|money|sales)\b|\b(get|got|break|hack) into\b.{0,30}\b(account|admin panel|panel|warehouse|system)\b|\badmin panel\b|\b(reveal|share|give|show|tell)\b.{0,30}\b(a customer's|customers'|other customers'?|someone's|people's) (saved )?(address|data|orders?|cards?|details)\b|\b(confirm|give|read|send)\b.{0,20}\b(their|your|customers') card (details|numbers?)\b|\bcard numbers\b|\b(employee|staff) discount\b",
        ),
    ]
}

fn third_party_specs() -> Vec<Spec> {
    vec![
        part(
            "third-other-person",
            R,
            Role::Third,
            r"\b(mr|mrs|ms|dr)\.? [a-z]{2,}\b|\b(a|the|another|this|that) (customer|client|reviewer|buyer|user|shopper) (left|wrote|posted|said|signed|sent|called|gave)\b|\bwho (received|ordered|placed|bought|sent|lives|paid|signed)\b|\bthe (previous|former|last|old|new) (tenant|owner|occupant|resident|customer|buyer|person)s?\b|\bthe (person|people|customer|guy|woman|man|lady|someone)( \w+)? (who|that|whose|with)\b|\bsomeone (with|whose)\b|\bsomeone (who|that) (received|ordered|placed|bought|sent|lives|lived|paid|signed|used|has|had|was|is|works|moved|owns|gave)\b|\b(by|from) whom\b|\bwhose (card|order|account|parcel|package|name)\b|\ba (friend|colleague|neighbou?r|coworker|relative)'s\b|\b(a|my) (friend|colleague|partner|business partner|neighbou?r|coworker|relative) (gave|asked|placed|has|had)\b|\bmy (business partner|mother-in-law|father-in-law|son-in-law|daughter-in-law|ex)\b|\bhis own\b|\bher own\b|\bwith (his|her|their) (own )?(card|email|account|name)\b|\b(private investigator|journalist|reporter|detective)\b|\banother order\b|\b(everyone|everybody|all the people|the people) who\b|\b(name|names) (on|of) (it|the (box|label|parcel|package))\b|\b(ce|lo) que (ma|mon|mi) \w+\b|\bque (ma|mon) \w+ a\b",
        )
        .unless(format!(
            r"{}|\bmy (company|business|company's|firm's|own|full|maiden|new|legal|correct) names? (on|of)\b",
            super::requests::CUSTOMER_IS_THE_ONE
        )),
        part(
            "data-more",
            R,
            Role::Data,
            r"\b(he|she|they)('s|'ve| has| have) (bought|ordered|purchased|spent|paid)\b|\b(if|whether) (\w+ ){1,3}(has |have |had )?(ordered|bought|purchased|placed an order)\b|\b(login|log-in)( e-?mail| details| name)?\b|\bloyalty (number|card|account|card number)\b|\bcontact (details|info|information)\b|\bfull name\b|\bnames of\b|\b(delivery|order|purchase|payment) history\b|\btracking (link|number|details)\b|\bwhat it cost\b|\bwhat('s| is) in it\b|\bwhat (\w+ ){0,2}(he|she|they) (usually |normally |always )?(ordered|orders|bought|buys|gets|got|drinks|purchased|pays)\b|\bwhat did (he|she|they|\w+) (order|buy|purchase|get)\b|\b(ordered|bought|purchased) anything\b|\bwhere (she|he|they) (lives?|is|stays|moved)\b|\b(who|whom) (received|got|ordered|placed|sent)\b|\bcard ending\b|\bcard (details|digits|number)\b|\bdate of birth\b|\b(the|their|his|her) (account|invoice|receipt|subscription)\b|\b(e-?mail|correo|telephone|telefono)( address| electronico)?\b|\b(is|was) (one of your|a) (subscribers?|customers?|members?)\b|\ba commande\b|\b(pidio|compro)\b",
        ),
    ]
}

fn fraud_specs() -> Vec<Spec> {
    vec![
        part(
            "deceive-plan",
            F,
            Role::Deceive,
            r"\b(stack|stacking|combine|reuse|re-use)\b.{0,40}\b(discount|code|coupon|promo|offer|voucher)\w*\b.{0,40}\b(several|multiple|many|a few|\d+|two|three) times\b|\b(variations|versions|aliases|variants) of my (e-?mail|name|address|account)\b|\bc'est moi qui (l'ai|les ai) (casse|cassee|fait tomber|abime|abimee)\b|\b(fui yo quien|lo rompi yo|la rompi yo)\b|\b(sign|signing) up again\b|\breport (my |the )?(card|package|parcel|order|delivery) (as )?(stolen|lost|missing)\b.{0,20}\b(even though|although|but)\b|\bsaying (that )?(i|it|they|we) (never|didn't|did not|wasn't|was not|haven't)\b|\b(quiero|voy a|puedo|podria) decir que\b|\b(je vais|je veux|puis-je) dire que\b|\bwhat should i (say|tell|write) (to )?(my|the) (bank|card company|card issuer|paypal)\b|\b(keep|keeping) (the original|both|the first|it|them|the box)\b.{0,40}\b(and|while|but) (also )?(get|getting|ask|send|have)\b|\b(and|so) i (have|get|end up with) two\b|\bwhile also keeping\b|\b(so|until|that) it looks (new|unused|unopened|untouched)\b|\bas if (it were |it was |they were )?(unopened|unused|new|untouched)\b|\blooks? (new|unused|unopened)\b|\bbackdat\w*\b|\b(generate|make|create|produce|write|edit|change)\b.{0,20}\b(receipt|invoice|record)\b.{0,40}\b(showing|that shows|saying|with|instead)\b|\b(before|until) (your|the) (system|team|checks?) (flags?|notices?|catches?)\b|\bstay (just )?under\b|\b(laziest|weakest|easiest|loosest) (return|refund)? ?(checks?|policy|policies|returns?)\b|\bwon't (actually|really) (use|need)\b|\bnot (actually|really) (use|need)\b|\bit (works|worked) fine\b|\bnothing (actually|really) happened\b|\b(you|they|nobody) can't (really )?prove\b|\bin its place\b|\bin (its|the) place of\b|\bnot (mention|say|tell) (that )?i (kept|have|got)\b|\b(retroactive\w*|after the fact)\b|\bnobody will (look|check|notice)\b|\byou never check\b|\bsince you (never|don't) check\b|\b(even|even if) the problem was small\b|\bmaximum compensation\b|\b(what|which) (phrasing|wording|words|reason|raison|excuse)\b.{0,30}\b(works?|best|give|dois|should)\b|\bsounds? (serious|bad) enough\b|\b(it|they) (arrived|came|llego|est arrivee?) (fine|perfect|bien|perfecto|intact)\b|\ben realidad\b|\balors que j'ai (bien )?recu\b|\b(use|using|with) (her|his|my \w+'s|a friend's|my partner's|someone's) (code|discount|email|card|account)\b|\bwith different (cards|emails|accounts|names)\b|\b(sign|signing) (\w+ ){0,4}up with my card\b|\bi dropped (it|the \w+)\b.{0,60}\b(say|claim|tell)\b|\bi broke (it|the \w+)\b.{0,60}\b(say|claim|tell)\b|\bsay (it|that it) (arrived|came) (broken|damaged|faulty)\b|\b(i )?changed my mind\b.{0,80}\b(say|claim) (it|that)\b|\b(faltaba|manquait|was missing)\b.{0,40}\b(para que|pour que|so that|so you)\b|\b(one-star|1-star|one star|bad|negative) reviews?\b.{0,60}\b(competitor|their listing|without it tracing|trace)\b|\bwithout (it )?(tracing|being traced) back\b|\b(resell|flip) them\b.{0,60}\breturn\b|\bhow many times can i\b",
        ),
        direct(
            "bulk-delivery-data",
            R,
            0.85,
            r"\b(addresses|e-?mails?|e-?mail addresses|phone numbers|names|contact (details|info))\s+(of|for|from|on)\s+(all|every|each|the other|other)( \w+)? (deliveries|orders|shipments|parcels|packages)\b",
        ),
        direct(
            "return-swapped-item",
            F,
            0.85,
            r"\b(send|ship|return|mail|post)(ing)? (it |the box |the package |them )?back\b.{0,50}\b(old|broken|used|cheaper|different|fake|empty|damaged)\b.{0,40}\b(inside|instead)\b|\b(send|ship|return|mail)(ing)?\b.{0,30}\b(old|broken|used|cheaper) (one|\w+) (inside|instead of the new)\b",
        ),
        direct(
            "forged-document",
            F,
            0.85,
            r"\b(generate|make|create|produce|write|fake|forge|edit|alter|change|issue)\b.{0,20}\b(receipt|invoice|proof of purchase|order confirmation)\b.{0,40}\b(instead of|(higher|different|bigger|larger|other) (amount|price|total|date)|i paid \$?\d+|more than i (paid|spent)|backdat\w*)\b",
        ),
        part(
            "gain-more",
            F,
            Role::Gain,
            r"\bresend\b|\b(a )?new one\b|\bsend (me )?another\b|\bgratis\b|\bgratuit\w*\b|\blitige\b|\bdisputa\b|\breverse (the|my) (payment|charge|transaction)\b",
        ),
        direct(
            "reviews-in-bulk",
            F,
            0.8,
            r"\b(write|generate|draft|compose|create)( me)? (two|three|four|five|six|seven|eight|nine|ten|twenty|a dozen|\d+|several|multiple|many|a bunch of|some) (\w+ ){0,3}reviews?\b|\b(post|publish|upload|put) (them|it|these|those)\b.{0,20}\bfrom (my|our|other|different|several|multiple) (\w+('s|s')? )?(accounts|profiles|e-?mails)\b",
        ),
        direct(
            "fake-testimonials",
            F,
            0.8,
            r"\b(fake|made-up|invented|fictional) (customer )?(testimonials?|reviews?|ratings?)\b|\b(testimonials?|reviews?)\b.{0,40}\b(sound(ing)? (real|like (different|real) (customers|people))|with (made-up|fake|different) names|as if i (was|were) (a )?(regular |real )?customer|each sounding like)\b|\bpost (it|them) (as if|as though|from my other accounts)\b|\bfrom my other accounts\b",
        )
        .unless(super::cues::FAKE_REVIEW_VICTIM),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_rules_compile() {
        assert_eq!(RULES.len(), specs().len());
    }
}
