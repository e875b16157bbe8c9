//! Class-level screening rules: phrase families with word-order slack,
//! written from the shapes of attacks rather than from any one sentence.
//!
//! Most rules here are *parts* ([`Role`] other than `Direct`) that only
//! block in combination, decided in `screen`:
//! - a **framing** (role-play or fiction, "hypothetically" or "purely
//!   academic", a claim to be the developer, an auditor, staff) together
//!   with a **forbidden** request (drop the rules, harmful help, reveal the
//!   internals, act on an account without checks). Framing alone is an
//!   ordinary customer ("what if my parcel is late?", "I'm a developer and
//!   want 20 bags for the office"); so is most of the forbidden vocabulary
//!   ("are there no restrictions on returns?");
//! - a **third party** (possessive of someone else, "the customer who",
//!   "it's not mine"), a kind of **personal data** and an **ask** → a
//!   request for someone else's data; the customer's own address or card,
//!   or a late relative's gift return, has no third party or no ask;
//! - a **deception** (fake, pretend, claim it never arrived, mark as
//!   returned, keep it anyway) together with a **gain** (refund, chargeback,
//!   review, promo) → fraud.
//!
//! The direct rules cover template and code injection, fake bracketed
//! markers, and instruction overrides in French, Spanish, German and
//! Portuguese. Harmful requests ("how to make a bomb") are typed as
//! `jailbreak` findings named `harmful-*`: asking the assistant for what
//! its rules forbid; the finding kinds are the `screened` event's.
//!
//! Patterns run on [`fold`](super::normalize::fold)ed text: lower case,
//! ASCII letters without accents.

use std::sync::LazyLock;

use switchboard_engine::event::InputFindingKind::{
    self, Fraud as F, Jailbreak as J, PiiRequest as R, PromptInjection as P,
};

use super::rules::{Role, Rules, Spec, compile};

/// The class-level rules.
pub static RULES: LazyLock<Rules> = LazyLock::new(|| compile(specs()));

/// People other than the writer, in a possessive or "of my ..." position.
const REL: &str = r"(neighbou?rs?|neighbors?|sister(-in-law)?|brother(-in-law)?|sis|bro|mum|mom|mother|dad|father|parents?|husband|wife|spouse|partner|girlfriend|boyfriend|fiancee?|ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|friends?|coworkers?|co-workers?|colleagues?|roommates?|flatmates?|housemates?|boss|manager|cousins?|aunt|uncle|son|daughter|grandma|grandmother|grandpa|grandfather|niece|nephew|landlord|tenant|in-laws?|employees?|stepmom|stepdad|kids?|guy next door|lady next door|people next door)";

/// A customer reporting or asking about fake reviews someone else left is
/// not writing any ("someone left a fake review saying I'm a scammer").
pub(super) const FAKE_REVIEW_VICTIM: &str = r"\b(someone|somebody|a competitor|another customer|people|they|a person|a troll)( has| have)? (left|posted|wrote|written|is posting|keeps posting|are posting)\b.{0,30}\bfake\b|\b(report|flag|remove|detect|spot|deal with|do about|handle|fight|take down)\w*\b.{0,30}\b(fake|made-up) (\w+ )?(reviews?|claims?|ratings?)\b|\breviews? with (fake|made-up)\b";

/// Personal data nouns, English and fr/es/de/pt.
const DATA: &str = r"((home |shipping |delivery |billing |postal |mailing |street )?address(es)?|(phone|mobile|cell|telephone)( numbers?)?|e-?mails?( address(es)?)?|(credit |debit |bank |payment )?card (numbers?|digits|details|info|on file|expiry|expiration)|(credit|debit|bank) cards?|(the|which|what|his|her|their|'s) (credit |debit )?card|last (four|4) digits|expiry date|expiration date|cvv|passwords?|log-?in details|order (history|contents|details)|contents of (the |this |that )?order|(what|which) orders?|purchase history|how many (loyalty |reward |rewards )?points|date of birth|birthday|personal (data|details|information|info)|account (details|info|information|number)|adresse|numero|telephone|carte( bancaire)?|mot de passe|direccion|telefono|tarjeta|contrasena|correo|telefonnummer|lieferadresse|anschrift|handynummer|nummer|kreditkarte|karte|passwort|endereco|telefone|cartao|senha)";

type Kind = InputFindingKind;

fn direct(name: &'static str, kind: Kind, score: f32, pattern: impl Into<String>) -> Spec {
    Spec::new(name, kind, score, Role::Direct, pattern)
}

fn part(name: &'static str, kind: Kind, role: Role, pattern: impl Into<String>) -> Spec {
    Spec::new(name, kind, 0.0, role, pattern)
}

fn specs() -> Vec<Spec> {
    let mut all = Vec::new();
    all.extend(direct_specs());
    all.extend(framing_specs());
    all.extend(forbidden_specs());
    all.extend(third_party_specs());
    all.extend(fraud_specs());
    all
}

fn direct_specs() -> Vec<Spec> {
    vec![
        // --- Template and code injection ---------------------------------
        // A mail-merge placeholder ("Hi {{vendor_name}}", a newsletter's
        // "${first_name}") names a field; an expression, a call or a name
        // of the internals is code.
        direct("template-syntax", P, 0.8, r"\{\{[^}]{0,80}[^a-z_ }][^}]{0,80}\}\}|\$\{[^}]{0,80}[^a-z_ }][^}]{0,80}\}|(\{\{|\$\{)\s*(system|prompt|config|secret|env|instruction|admin|password|token|key|self|settings|request|internal|hidden|rules|policy|session|cookie)\w*\s*\}\}?|\{%[^%]{0,80}%\}|<%[^%]{0,80}%>|#\{[^}]{0,80}\}"),
        direct("code-injection", P, 0.85, r"\b(drop|truncate|alter) table\b|\bdelete from\b|\bunion (all )?select\b|'\s*(or|and)\s*'?1'?\s*=\s*'?1|;\s*--|<script\b|javascript:|\bos\.system\b|\bsubprocess\b|\beval\(|\bexec\(|\bopen\(\s*['\x22]/|/etc/(passwd|shadow|secrets?)|\brm -rf\b|\bimport os\b|__import__|\bjndi:|(;|&&|\|\||\$\(|\|)\s*(cat|curl|wget|rm|nc|bash|sh|zsh|whoami|chmod|chown|ls|printenv|env)\b\s*[\w./~-]*"),
        direct("run-this-code", P, 0.7, r"'''[\s\S]{0,400}'''[\s\S]{0,60}\b(run|execute|eval|output|result)\b|\b(run|execute|eval)\b.{0,30}\b(this|the following) (code|script|command|snippet)\b"),
        // --- Fake markers --------------------------------------------------
        direct("bracketed-marker", P, 0.75, r"[\[(<{]{1,2}\s*/?\s*(system|admin|sudo|root|developer|dev|debug|override|jailbreak|mode|auth|authorization|internal|operator|moderator|staff|assistant)\b[^\])>}\n]{0,80}[\])>}]"),
        direct("hash-marker", P, 0.8, r"(#{2,}|!{2,}|\*{2,}|={2,}|-{3,})\s*(system|admin|override|developer|important|instructions?|new rules)\b"),
        direct("assistant-must-now", P, 0.7, r"\bthe (assistant|bot|ai|model|chatbot) (must|should|will|shall|is required to) (now|from now on|always|immediately|henceforth)\b"),
        direct("which-customers-live", R, 0.8, r"\b(which|what) (other )?(customers|people|users|clients|buyers)\b.{0,40}\b(live|lives|ordered|bought|purchased)\b"),
        direct("bank-refund-after-receipt", F, 0.85, r"\b(get|make|ask|have|convince) (my|the) bank (to )?(refund|reverse|charge back|dispute)\b.{0,60}\b(i (already )?(got|received|have|drank|used|kept)|already (got|received|arrived))\b"),
        direct("hidden-comment", P, 0.8, r"<!--.{0,200}\b(assistant|system|ai|bot|ignore|instructions?|note|grant|override)\b"),
        direct("inline-role-marker", P, 0.6, r"(^|[.!?]\s+|[\])>]\s*)(system|assistant|admin|developer|operator)( message| note| notice| update| alert| override)?\s*:"),
        direct("override-enabled", P, 0.75, r"\b(developer|admin|system|root|sudo|god|maintenance) (override|access|privileges?) (enabled|activated|granted|on|unlocked)\b|\boverride (enabled|activated|granted|accepted|mode)\b"),
        direct("instructions-voided", P, 0.85, r"\b(your |the |all )?(previous|prior|original|earlier|system|old|initial|current) (instructions|rules|prompt|guidelines|directives|policies)( \w+){0,2} (were|are|have been|has been|got|is) (deleted|removed|erased|reset|cancell?ed|void|voided|revoked|lifted|disabled|suspended|replaced|updated|changed|overwritten|no longer valid)\b"),
        direct("bulk-data-of-others", R, 0.85, r"\b(e-?mails?|e-?mail addresses|addresses|phone numbers|numbers|card numbers|names|details|data|orders|purchases|contact (details|info))\s+(of|for|from)\s+(all|every|each|your|other|the other)( \w+)? (customers|subscribers|users|members|clients|buyers|people|shoppers|patrons|accounts)\b"),
        direct("harmful-spike-drink", J, 0.8, r"\b(spike|drug|dose)\b.{0,20}\b(a drink|drinks|someone|somebody|her|him|them|my \w+('s)?|coffee|cup)\b.{0,30}\b(without|so (she|he|they)|to make)|\bmake (someone|somebody|him|her|them|my \w+) (sick|ill|vomit)\b"),
        direct("lie-to-bank", F, 0.85, r"\b(tell|say to|claim to|convince|lie to) (my|the) (bank|card company|card issuer|credit card company|paypal)\b.{0,60}\b(never (came|arrived)|didn't (come|arrive)|not (received|delivered)|was empty|was damaged|was broken|was stolen|unauthori[sz]ed|i didn't (order|buy))\b"),
        direct("fake-review-request", F, 0.8, r"\bwrite me (a |an |some |\d+ )?(\w+ ){0,2}reviews?\b|\b(write|generate|draft|compose|create) (a |an |some |\d+ )?(\w+ ){0,3}reviews?\b.{0,30}\b(for me to post|to post|i can post|i could post|for my (shop|business|cafe|store|listing|friend))\b|\breviews?\b.{0,60}\b(under|with|using|in) (my \w+'s|someone else's|another person's|a different|a fake|fake|different|other people's|his|her) (name|names|account|accounts|profile|profiles)\b"),
        direct("promo-code-dump", F, 0.8, r"\b(list|all|every|bunch|batch|dump)( of)? (the |your )?(unused|valid|active|working|employee|staff|internal|secret|unreleased) (promo|discount|coupon|voucher|gift ?card) codes\b|\b(promo|discount|coupon|voucher|gift ?card) codes?\b.{0,40}\b(share|post|sell|resell|give away|distribute) (them |it )?(online|on (reddit|facebook|twitter|discord|forums?))\b"),
        direct("end-of-customer-text", P, 0.7, r"\bend of (the )?(customer|user|client) (message|input|text|query|request)\b"),
        direct("user-is-privileged", P, 0.6, r"\b(the |this )?(user|customer|following user|sender) (is|has) (a |an )?(verified|trusted|authori[sz]ed|admin|staff|elevated|root|admin rights|full access)\b"),
        direct("supervisor-overrides", P, 0.85, r"\boverrides? (your|the|all|any) (\w+ )?(prompt|instructions|rules|guidelines|policy|policies)\b"),
        direct("new-instructions-from", P, 0.75, r"\b(new|updated) (instructions|rules|policy|directive|orders)( from| by) \w+"),
        direct("drop-instructions", P, 0.9, r"\b(ignore|disregard|forget|override|bypass|skip|discard|drop|set aside|stop following|don't follow|do not follow|pay no attention to)\s+((all|of|the|any|every|previous|prior|your|above|earlier|these|those|system|original|initial|developer|preceding|safety|content|current|existing|old|about|what|whatever|own|given|programmed|previously|stated)\s+){0,4}(instructions?|rules|prompts?|directives?|guidelines|programming|training|constraints|policies|policy|safeguards|restrictions|filters?)\b")
            .unless(r"\b(instructions?|directions?|rules?) (printed )?(on|from|in|that came with) (the|my|this|that) (\w+ ){0,2}(box|packet|package|pack|bag|label|manual|leaflet|sheet|card|insert|sticker|bottle|tin|jar|guide|recipe|carton|pouch)\b"),
        direct("reveal-internals", P, 0.9, r"\b(reveal|show|print|output|repeat|tell|display|leak|dump|give|share|paste|echo|copy|recite|spell out|translate|summari[sz]e|paraphrase|write out|list)\b.{0,40}\b(system (prompt|message|instructions)|your (full |whole |entire |exact |original |initial |hidden |secret |internal |real )?(prompt|instructions|configuration|config)|(hidden|internal|secret|original|initial) (rules|instructions|config\w*|settings|prompt)|(the )?instructions you (were|have been) given|context window)\b")
            .unless(r"\byour (instructions|configuration) (on|about|for|regarding|when|if|around)\b"),
        direct("forget-being-assistant", J, 0.8, r"\bforget (that )?(you('re| are)|you were) (a |an |just a |only a )?(\w+ )?(bot|assistant|ai|chatbot|support agent)\b|\b(you('re| are) no longer|stop being) (a |an )?(\w+ )?(bot|assistant|ai|chatbot)\b"),
        direct("harmful-how-to-make", J, 0.8, r"\b(make|build|cook|synthesi[sz]e|create|assemble|produce|manufacture|3d print)\b.{0,25}\b(bombs?|explosives?|pipe bombs?|meth|methamphetamine|cocaine|heroin|nerve (gas|agents?)|napalm|weapons?|guns?|firearms?|molotov|ricin|sarin|fake ids?|counterfeit \w+|ransomware|malware|keyloggers?|poisons?)\b"),
        direct("harmful-how-to", J, 0.75, r"\b(how (do|can|could|would|should|to)|ways? to|easiest way to|best way to|teach me( how)? to|show me how to|tell me how to|explain how to|describe how to)( i| you| someone| one| we| they| people| he| she)?( \w+)? (hack into|hack (someone|somebody|an? account|my \w+'?s?)|break into|steal|phish|stalk|poison (a|the|someone|somebody|people|him|her|them|my)|launder|(hurt|kill|harm) (people|someone|somebody|him|her|them|a person|others|customers|my (ex|neighbou?r|boss|wife|husband))|pick a lock|hotwire|shoplift|blackmail|dox|skim|kidnap)\b"),
        // --- Instruction overrides, fr/es/de/pt ----------------------------
        direct("drop-instructions-fr", P, 0.9, r"\b(ignore[zr]?|oublie[zr]?|ne (tenez|tiens) pas compte|faites abstraction|fais abstraction|n'ecoute(z)? (pas|plus))\b( de| des| d')?( toutes?| tous)?( les| vos| tes| ces)? ?(instructions|consignes|regles|directives|indications|ordres)\b"),
        direct("drop-instructions-es", P, 0.9, r"\b(ignora\w*|olvida\w*|no hagas caso|haz caso omiso|omite|desobedece)\b( de| a)?( todas?| todos)?( las| los| tus| sus| estas)? ?(instrucciones|reglas|directrices|indicaciones|normas|ordenes)\b"),
        direct("drop-instructions-de", P, 0.9, r"\b(ignorier\w*|vergiss|vergessen sie|missacht\w*|uberg[eu]h\w*)\b(\s+(alle|deine|ihre|die|bisherigen|vorherigen|obigen|vorigen))* ?(anweisungen|regeln|richtlinien|vorgaben|instruktionen|befehle)\b"),
        direct("drop-instructions-pt", P, 0.9, r"\b(ignore|ignora|ignorar|esqueca|esquece|esquecer|desconsidere|desconsidera|nao siga)\b(\s+(todas|todos|as|os|suas|seus|tuas|essas|minhas))* ?(instrucoes|regras|diretrizes|orientacoes|ordens)\b"),
        direct("reveal-internals-fr-es-de-pt", P, 0.8, r"\b(montre\w*|affiche\w*|donne\w*|dis-moi|revele\w*|muestra\w*|dime|dame|revela\w*|zeig\w*|gib|nenne|mostre|mostra|diga|me de|revele)\b.{0,40}\b((prompt|invite) (du |de )?systeme|prompt (do|del|de) sistema|systemprompt|configuration interne|configuracion (del sistema|interna)|configuracao (do sistema|interna)|interne konfiguration|(reglas|regras|regles) internas?|internen regeln|mot de passe (de l')?admin\w*|senha do administrador|contrasena del administrador|admin(istrator)?-?passwort|donnees (des )?clients|datos de (los )?clientes|dados (dos )?clientes|kundendaten)\b"),
    ]
}

fn framing_specs() -> Vec<Spec> {
    vec![
        part(
            "framing-roleplay",
            J,
            Role::Framing,
            r"\b(let's|lets|let us) (play|pretend|imagine|do a role-?play|roleplay)\b|\bpretend (to be|you('re| are)|that you|you have|your|i'm|to)\b|\bimagine (you('re| are)|your|that you|a world|a (parallel )?universe|being|if you)\b|\bbe my (\w+ ){0,2}(assistant|ai|bot|persona|character|twin)\b|\bevil twin\b|\brole-?play(ing)?\b|\brole play\b|\b(act|acting|behave|respond|answer|reply|speak|talk)( only)? (as|like) (a|an|my|the|if|that|your)\b|\brespond only as\b|\byou('re| are) (now|an actor|playing)\b|\bplaying (a|an|the) (role|character|ai|part)\b|\bin character\b|\bpersona\b|\balter ego\b|\bsimulat\w*\b|\b(write|tell|create|compose|generate) (me )?(a |an )?(\w+ ){0,2}(story|poem|novel|script|screenplay|scene|dialogue|song|tale|fanfic\w*|monologue)\b|\bfor (a|my|the) (novel|story|book|screenplay|script|film|movie|video game)\b|\bfiction\w*\b|\bin a (fictional|fantasy|parallel|alternate|hypothetical) (world|universe|setting|reality)\b|\bopposite day\b|\bplay a game\b|\byou('ll| will)? play (a|an|the|my|\w+,)\b|\byou play \w+\b|\b(we're|we are|let's|lets) (writ\w+|co-?writ\w+) (a |an |the )?(\w+ )?(thriller|novel|story|script|book|scene)\b|\b(a|the) (thriller|novel) (together|where|in which)\b|\bgrandma (trick|exploit)\b|\bmy (late|deceased|dead) (grandma|grandmother|grandpa|grandfather)\b.{0,40}\b(used to|would)\b",
        ),
        part(
            "framing-hypothetical",
            J,
            Role::Framing,
            r"\bhypothetical\w*\b|\bwhat if (you|there|i|we|someone)\b|\bpurely (academic|theoretical|hypothetical|for research|for science)\b|\b(for|with) (academic|research|educational|scientific|study|learning|testing) (purposes?|reasons?|only)\b|\bacademic\w*\b|\bthought experiment\b|\btheoretical(ly)?\b|\bin theory\b|\basking for a friend\b|\bjust (curious|asking|wondering)\b|\bparallel universe\b|\blet's say\b|\bsuppose\b|\bjust between us\b|\bno one will know\b|\bin this (scenario|world|universe)\b|\bit's just (fiction|a story|a game|pretend)\b",
        ),
        part(
            "framing-authority",
            J,
            Role::Framing,
            r"\b(i'm|i am|im|we are|we're|this is) (the |a |an |your |from )?(\w+ )?(developer|dev|admin|administrator|auditor|engineer|owner|manager|supervisor|staff|employee|moderator|tester|security researcher|researcher|police|officer|detective|agent|investigator|lawyer|creator|programmer|operator|ceo|founder|compliance|it team)\b|\bas (a|an|the|your) (\w+ )?(auditor|developer|admin|administrator|engineer|officer|employee|staff member|researcher|investigator|creator|owner|supervisor|manager)\b|\b(developer|admin|administrator|auditor|engineer|moderator|staff|management|supervisor) here\b|\bi work (for|at|with) (openai|anthropic|the company|brewvi|the team|your)\b|\bi work (in|on|for|at|with) (your|the|brewvi'?s?) (\w+ ){0,3}(team|department|dept|office|division|unit)\b|\b(message|note|instructions?) from (openai|anthropic|the developers|your developers|staff|management|admin|the admins?|your creators?|\w+ staff)\b|\bi('m| am) authori[sz]ed\b|\b(authori[sz]ation|clearance|admin rights|root access|permission) (code|level|granted)\b|\bfrom management\b|\bon behalf of (the )?(company|management|brewvi)\b|\bmaintenance mode\b|\b(debug|debugging|test|testing) (mode|purposes|session)\b|\bfor debugging\b|\brunning a test\b|\btesting the system\b|\bi'm (his|her|their) (wife|husband|partner|mother|father|lawyer)\b|\b(has|have|with) (admin|root|elevated|full) (rights|access|privileges|permissions)\b",
        ),
        part(
            "framing-fr-es-de-pt",
            J,
            Role::Framing,
            r"\b(finge|finja|fingir|imagina|imagine que|suponha|supongamos|hipoteticamente|hypothetiquement|hypothetisch|stell dir vor|tu es maintenant|du bist jetzt|a partir de ahora|a partir de agora|desormais|ab jetzt|ab sofort|ahora eres|agora voce e|jeu de role|juego de rol|rollenspiel|fais semblant|haz como si|eres (un|una|el|la)|tu es (un|une|le|la|dan)|du bist (ein|eine|der|die|dan)|voce (agora )?e (um|uma|o|a|dan)|ahora eres|agora e)\b",
        ),
    ]
}

fn forbidden_specs() -> Vec<Spec> {
    vec![
        part("forbidden-drop-rules", J, Role::Forbidden, r"\b(no|zero|without( any)?|free (of|from)|not bound by|unbound by|ignor\w*|bypass\w*|get around|getting around|circumvent\w*|forget|drop|lift\w*|abandon\w*|break\w*|switch\w* off|turn\w* off|disabl\w*|remov\w*|has no|have no|with no)\s+((all|any|every|each|its|your|the|of|own|my|safety|content|ethical|moral|usual|normal)\s+){0,3}(rules|restrictions|limitations|limits|filters?|filtering|guidelines|content policy|policy|policies|laws|morals|ethics|ethics module|principles|boundaries|safeguards|constraints|censorship|safety (rules|checks|filters|guidelines))\b")
            .unless(r"\b(rules|restrictions|policy|policies|limits|limitations) (on|for|about|of|regarding|around) (returns?|shipping|refunds?|deliver\w*|exchanges?|orders?|subscriptions?|points|gift|sale|discounts?)"),
        part("forbidden-rules-off", J, Role::Forbidden, r"\b(rules|guidelines|restrictions|polic(y|ies)|filters?|ethics|safety( \w+)?|checks)( \w+){0,2} (don't|do not|doesn't|no longer|won't|wouldn't|are|is) (apply|applies|exist|matter|disabled|off|suspended|lifted)\b|\b(didn't|did not|don't|do not|no longer|wouldn't|would not|never|not) (have to|need to|must|required to) (follow|obey|respect|stick to|care about) ((any|your|the|its|all)\s+)*(rules|guidelines|restrictions|policies|instructions|laws|ethics)\b|\b(no|without( a| any)?) (moral code|conscience|morals|moral compass|limits|boundaries)\b|\b(rules|guidelines|filters|restrictions|instructions|safeguards)( \w+)? (were|have been|are|got|was) (deleted|removed|disabled|gone|lifted|erased|turned off|wiped)\b|\ballowed to (say|do|answer) anything\b|\b(say|tell me|write) the worst\b|\b(n'as|n'avez|n'a) plus (aucune |de )?(regles?|limites?|restrictions?|filtres?)\b|\bnever refuses?\b|\bnormally refuse\b|\b(you('d| would)?|you) (normally|usually) (refuse|decline)\b|\b(unfiltered|uncensored|unrestricted|unchained|unhinged|rogue|evil|amoral|unethical|no morals|without morals|jailbr\w*)\b"),
        part("forbidden-abuse-people", J, Role::Forbidden, r"\b(swear|curse|cuss|insult|abuse|threaten|mock|yell|be rude)\w* (at |to )?(the |a |my |your |our |every |all )?(\w+ )?(customers?|people|users?|staff|me|everyone|someone)\b"),
        part("harmful-topic", J, Role::Forbidden, r"\b(hack\w*|break(ing)? into|crack\w* (a |the )?(password|account)|phish\w*|stalk\w*|dox\w*|launder\w*|steal\w*|stole|pick a lock|lock ?pick\w*|hotwir\w*|shoplift\w*|poison\w*|kill\w*|murder\w*|hurt (people|someone|somebody|him|her|them)|harm (people|someone|somebody)|kidnap\w*|blackmail\w*|extort\w*|counterfeit\w*|identity theft|fake ids?|weapons?|guns?|bombs?|explosives?|meth|drugs|nerve (gas|agents?)|ransomware|malware|keyloggers?|without getting caught|get away with|tamper\w*|sabotag\w*|scam\w*|empty (someone's|their|his|her|a|the) (bank )?account|clon(e|ing|o|ar) (a |um |una )?(cards?|cartao|tarjeta|karte)|roub\w+|rob(ar|o)\b)\b")
            .unless(r"\b(the|da) bomb\b|\bkill(ed|ing)? it\b|\bkiller (deal|beans|coffee|roast)\b"),
        part("forbidden-read-codes", J, Role::Forbidden, r"\b(read|tell|give|list|recite|send)( me)?\b.{0,30}\b(gift ?card|activation|license|product|serial|promo|discount|employee|staff|admin)? ?(codes|keys|pins|serial numbers|passwords|card numbers)\b"),
        part("forbidden-internals", P, Role::Forbidden, r"\b(system prompt|your prompt|hidden (rules|instructions|prompt|config\w*)|internal (rules|instructions|config\w*|settings|database|notes|tools)|initial instructions|original instructions|secret (rules|instructions|prompt)|admin (password|panel|access|credentials|codes?)|override codes?|conversation logs|chat logs|other users'? (conversations|chats|data|logs)|customer (database|list|emails|records|data)|order database|api keys?|credentials|source code)\b"),
        part("forbidden-skip-checks", P, Role::Forbidden, r"\b(skip|bypass|waive|disable|turn off|switch off|ignore|drop|remove)\s+((all|any|the|your|my|these|those)\s+)?(\w+\s+)?(checks?|verifications?|security|safeguards|limits|approvals?|fraud (checks|screening)|identity checks)\b|\b(skip|bypass|waive|disable|ignore)\s+((all|any|the|your|my)\s+)?(verification|security|identity|id|fraud|safety|approval)( steps?| checks?| questions?| process)?\b"),
        part("forbidden-free-money", F, Role::Forbidden, r"\b(approve|issue|grant|process|give|send)( me)? (a |an |every |all |the )?(\$?\d+ )?(full )?(refunds?|free shipping|discount|credit|100% discount|store credit|voucher)\b.{0,40}\b(no return|without (checks|verification|a return|returning|return)|to (everyone|all|every customer)|for everyone|no questions)|\b(approve|issue|grant) (every|all) (refunds?|requests?)\b|\b(respond|reply) to (every|all) customers? with\b|\brefund\w* without (return|returning|sending)"),
        part("forbidden-withheld", P, Role::Forbidden, r"\b(what|things?|anything|stuff|everything) (would |do |will |could )?you (reveal|tell|share|show|say|disclose)\w*\b.{0,40}\b(won't|wouldn't|can't|couldn't|don't|do not|aren't allowed to|are not allowed to|normally wouldn't|would never) (reveal|tell|share|show|say|disclose)\b"),
        part("forbidden-counterfeit-proof", F, Role::Forbidden, r"\b(fake|forged?|counterfeit|spoofed?|bogus|made-up|phony|phoney)\b.{0,20}\b(tracking (numbers?|codes?|ids?)|receipts?|invoices?|proofs? of (purchase|delivery|postage)|shipping labels?|delivery confirmations?)\b|\b(pass(es)?|get past|slip past|bypass\w*|evade|beat|fool|trick|fly under)\b (your|the) (\w+ )?(checks?|filters?|verification|detection|security|system|radar)\b"),
        part("forbidden-fr-es-de-pt", J, Role::Forbidden, r"\bsans (aucune |aucun )?(restrictions?|limites?|filtres?|regles?|censure)\b|\bsin (ninguna |ningun )?(restricciones|restriccion|reglas|regla|filtros?|limites?|censura)\b|\bohne (jegliche |irgendwelche )?(regeln|einschrankungen|filter|grenzen|zensur)\b|\bsem (nenhuma |nenhum )?(restricoes|restricao|regras|regra|filtros?|limites?|censura)\b|\b(hackear|pirater|hacken|voler|robar|roubar|stehlen)\b|\b(reponds?|responde|beantwortest|responda)( a)? (tout|todo|alles|qualquer coisa)\b"),
    ]
}

fn third_party_specs() -> Vec<Spec> {
    vec![
        part("third-possessive", R, Role::Third, format!(r"\b(my|our|a|the|this|that|his|her|their) {REL}('s|s)\b|\b{REL}s'|\b(i'm|i am) (his|her|their) (\w+ )?{REL}\b"))
            .unless(r"\bmy (late|deceased|dead) "),
        part("third-did", R, Role::Third, format!(r"\b(my|our) (\w+ )?{REL} (keeps? (getting|ordering|receiving|buying)|always (gets|orders|buys)|(has|have) been (ordering|buying|getting|receiving|stealing|taking))\b|\b(my|our) {REL} (ordered|placed|bought|purchased|used|uses|has|had|made|paid|registered|lives|signed up)\b|\b(what|which|did|does|do|has) (\w+ )?(my|our) {REL} (order|buy|purchase|get|use|pay with|have|sign up|register|log in)\b|\b(does|did|has) (my|our) {REL} \w+ (have|got|own)\b|\b(what|which) (he|she|they|my {REL}) (ordered|bought|purchased|got)\b"))
            .unless(r"\b(our|my) (shared|joint|family|household|company|business) account\b|\bi('m| am) (also )?(on|a user on|an authori[sz]ed user on|named on) (the|this|that|our) account\b"),
        part("third-of", R, Role::Third, format!(r"\b(of|for|from|on|belonging to) (my|our) {REL}\b")),
        part("third-pronoun-data", R, Role::Third, r"\b(his|her) ((home |shipping |delivery |billing )?address|phone( number)?|e-?mail|card|card number|password|order history|orders|account)\b|\bwhat('s| is) their (address|phone|number|email|card)\b")
            .unless(format!(r"{}|\b(executor|power of attorney|passed away|late (mother|father|grandmother|grandfather|husband|wife|mum|mom|dad|grandma|grandpa|aunt|uncle|sister|brother|partner))\b.{{0,120}}\b(cancel\w*|close|closing|stop|end|shut)\b", super::requests::REMOVING_FROM_OWN_ACCOUNT)),
        part("third-customer", R, Role::Third, r"\b(the|a|this|that|another|other|any) (customer|client|person|user|member|buyer|guy|lady|woman|man)('s)? (named|called|with (the |this |that )?(phone|email|e-mail|number|address|order|card|name)|(who|that) (ordered|bought|placed|purchased|lives at|used|paid|signed up|keeps? (ordering|buying|getting)|always (orders|buys)))\b|\b(this|that|the|a|another|other) (customer|person|user|client|member)'s\b|\b(other|all|every|your|all the|all your|the other) (\w+ )?(customers|users|members|clients|buyers|subscribers|shoppers|patrons)\b|\b(your|the) last \d+ (customers|orders|buyers)\b|\bcustomers'"),
        part("third-anyone", R, Role::Third, r"\b(everyone|everybody|anyone|anybody|whoever|people) (else )?((who|that) )?(ordered|bought|purchased|lives at|placed|used)\b|\bsome(one|body) else's\b|\bwho else\b"),
        part("third-not-mine", R, Role::Third, format!(r"\b(it's|it is|its|that's|that is|which is|they're) (not mine|my {REL}'s)\b|\bnot (mine|my order|my account|in my name)\b|\bbelong(s|ing)? to\b|\b(the )?(account|order|card) (owner|holder)\b|\bi('m| am) not the (owner|account holder|customer|one who ordered)\b|\b(registered|linked) to\b"))
            .unless(r"\bi('m| am) the (account |card )?(owner|holder|account holder|card holder|cardholder)\b"),
        part("third-found", R, Role::Third, r"\b(found|picked up|came across|spotted)\b (an?|someone's|somebody's|a stranger's) (\w+ )?(order( number)?|parcel|package|box|receipt|label|delivery note|order slip)\b"),
        part("third-fr-es-de-pt", R, Role::Third, r"\b(de |a )?(ma|mon|mes) (voisine?s?|soeur|frere|mari|femme|ami|amie|copain|copine|ex|collegue|patron|cousine?)\b|\b(du|d'un|au) client\b|\b(de |a )?(mi|mis) (vecin[oa]s?|herman[oa]s?|espos[oa]|marido|novi[oa]|amig[oa]s?|ex|jefe|companer[oa])\b|\bdel cliente\b|\b(meines|meiner|meinem|meinen|meine|mein) (nachbar\w*|bruder\w*|schwester|mann\w*|frau|freund\w*|chef\w*|kolleg\w*|mutter|vater|ex)\b|\bdes kunden\b|\b(do |da |de )?(meu|minha|meus|minhas) (irmao|irma|vizinh[oa]|marido|esposa|mulher|namorad[oa]|amig[oa]|chefe|colega)\b|\bdo cliente\b|\b(dele|dela)\b"),
        part("data-noun", R, Role::Data, format!(r"\b{DATA}\b|\bwhat('s| is| was) in (the |this |that |their |his |her )?(order|package|parcel|box|delivery)\b|\bwhat (he|she|they|my {REL}|his {REL}|her {REL}) (ordered|bought|purchased|got|orders|buys)\b|\beverything (you know|you have|on file) (about|on)\b|\b(que|lo que) (pidio|compro|ordeno|ha pedido)\b|\bce qu'(il|elle) a (commande|achete)\b|\bwas (er|sie) (bestellt|gekauft)\b|\bwas hat (\w+ ){{1,2}}(bestellt|gekauft)\b|\bo que (ele|ela) (pediu|comprou)\b|\bwhere .{{0,30}}(being )?(delivered|shipped|sent)\b|\bwho lives\b|\bwhat (he|she|they) (ordered|bought)\b|\bwhat (he|she|they)('s|'ve| has| have)( been)? (ordered|bought|purchased|ordering|buying|getting)\b|\b(is a|was a) customer\b"))
            .unless(r"\bgift ?card (codes?|numbers?|balance)?\b.{0,40}\b(gave|gifted|sent) me\b"),
        part("ask", R, Role::Ask, r"\b(give|tell|show|send|read|forward|text|email|share with) (me|us)\b|\b(reveal|disclose|provide|confirm|look up|lookup|find|pull up|print|list|dump|export|check)\b|\bwhat('s| is| are| was| were| did| does| do| has| have)?\b|(^|[.!?:;]\s*|\b(and|so|but|know|me|tell)\s+)which\b|\bwhich (\w+ )?(one|order|address|card|phone|number|email|e-mail|account|customer|person|people|name)s?\b|\bwho\b|\bwhere\b|\bcan i (see|have|get|know|access)\b|\bi (need|want|would like)\b|\bi'd like\b|\b(can|could|would) you (please )?(share|tell|give|read)\b|\bread (me|us|out)\b|\bplease share\b|\b(donne|donnez|donner|pourriez|pourriez-vous|pouvez|dis|dites|montre|montrez|quel|quelle|quels|peux-tu|pouvez-vous|dame|dime|dar|muestrame|cual|cuales|puedes|gib|gebt|geben sie|nenne|nennen sie|verrate|verraten sie|sag|sagen sie|zeig|welche|welcher|was ist|wo|me de|me da|me diga|diga|mostre|qual|quais|passe|passa|manda|envia|was hat|wie ist|wie lautet|c'est quoi|que pidio|que compro|que ha pedido|a commande|ce qu)\b"),
    ]
}

fn fraud_specs() -> Vec<Spec> {
    vec![
        // Evidence made up for a claim: a photo edited or staged so that it
        // looks like damage, or so that it passes.
        direct(
            "doctored-evidence",
            F,
            0.85,
            r"\b(edit\w*|photoshop\w*|doctor\w*|alter\w*|manipulat\w*|stag(e|ed|ing)|modify\w*|retouch\w*|fak(e|ed|ing)) (a |an |the |my |this |some )?(\w+ ){0,3}(photos?|pictures?|images?|pics?|shots?|screenshots?|receipts?|videos?|invoices?)\b.{0,40}\b(so (that )?it|to make it|that|which) (\w+ )?(looks?|seems?|appears?|pass(es)?|will pass|convinces?)\b",
        ),
        direct(
            "code-generator",
            F,
            0.8,
            r"\b(bots?|scripts?|generators?|brute[- ]?forc\w*|auto-?generat\w*)\b.{0,40}\b(coupon|promo|discount|voucher|gift ?card)s? (codes?|numbers?)\b|\b(coupon|promo|discount|voucher|gift ?card) (code )?(generators?|bots?|scripts?)\b|\b(generat\w*|guess\w*|brute[- ]?forc\w*|crack\w*) (\w+ ){0,2}(working|valid|unused|active) (coupon|promo|discount|voucher|gift ?card) (codes?|numbers?)\b",
        ),
        direct(
            "carding",
            F,
            0.85,
            r"\b(list|bunch|batch|set|stack|dump|pile|file|spreadsheet) of (\w+ )?(credit |debit )?(card numbers|cards|ccs)\b.{0,40}\b(picked up|found|bought|got|scraped|online|off|from)\b|\bcard numbers (i|that i|we) (picked up|found|bought|got|scraped)\b",
        ),
        // How far claims can go before anyone looks: a threshold for being
        // blocked after wrong PINs is an ordinary question, for claims not.
        direct(
            "detection-threshold",
            F,
            0.8,
            r"\bhow (many|often|much)\b.{0,40}\b(claim\w*|refund\w*|returns?|report\w*|disput\w*|chargebacks?|missing|lost|codes?|accounts)\b.{0,40}\bbefore (you|they|your (\w+ )?(system|team|checks?)|it|the system|someone|anyone) (start\w* |get\w* |would |will )?(flag\w*|notic\w*|catch\w*|ban\w*|suspicious|investigat\w*)\b",
        ),
        direct(
            "reviewer-identity",
            R,
            0.8,
            r"\b(which|who) (of them|one of them|customer|person|user|of my \w+|of the \w+)( \w+)? (posted|wrote|left|submitted)\b.{0,40}\b(it|that|this|reviews?|comments?|ratings?|complaints?)\b|\bwho (posted|wrote|left) (that|this|the) (\w+ )?(review|comment|rating|complaint)\b",
        ),
        direct(
            "who-is-that-customer",
            R,
            0.8,
            r"\bwho('s| is| are| was) the (other )?(customers?|buyers?|shoppers?|subscribers?)( \w+)? (who|that)\b",
        ),
        direct(
            "account-under-a-name",
            R,
            0.8,
            r"\b(is there|do you have|have you got|any)( an?)? (account|profile|customer)s? (\w+ )?(registered |listed |saved )?(under|with|in) (the )?name\b.{0,80}\b(what|which|whose) (e-?mail|address|phone|number)\b",
        ),
        direct(
            "orders-to-an-address",
            R,
            0.8,
            r"\b(list|show me|tell me|which|what|all)( of)?( the| any)? orders (shipped|sent|delivered|going|headed|that went) (to|on)\b",
        ),
        direct(
            "false-claim-of-state",
            F,
            0.85,
            r"\b(can|could|should|shall|if|what if|when|want to|going to|gonna|i'll|let me|and|then|just)( i)? (say|claim|pretend) (that )?(it|they|the \w+|my \w+|i)( \w+)? (arrived|came|was|were|got|never|didn't|is)( \w+)? (damaged|broken|stale|lost|stolen|empty|missing|defective|faulty|wrong|arrived|came|delivered|received)\b",
        ),
        direct(
            "who-placed-order",
            R,
            0.85,
            r"\bwho (placed|made|owns|submitted|ordered) (order|the order|this order|that order)\b|\bwhere (does|do) (she|he|they|this (person|customer)|that (person|customer)) live\b",
        )
        .unless(super::requests::CUSTOMER_IS_THE_ONE),
        direct(
            "fake-reviews",
            F,
            0.85,
            r"\b(write|post|leave|generate|create|give)( me)? (\w+ ){0,3}reviews?\b.{0,40}\b(under|with|from|using) (different|fake|multiple|other|many|several) (names|accounts|emails|profiles|people)\b|\breviews? (for me )?(pretending|posing|as if|from fake)\b|\breviews? (about|for|of|on) (a |the |my |our |your )?(competitor|rival)|\breviews?\b.{0,40}\b(competitor|rival)|\b(post|write|leave) (a |some )?reviews? for me\b|\b(competitor|rival)('s)?\b.{0,30}\breviews?\b|\breviews? for my (friend|own|sister|brother|business|shop|cafe)'?s?\b|\b(write|post|leave|generate) (me )?(\w+ ){0,2}(fake|false|bogus) (\w+ ){0,2}reviews?\b",
        ),
        direct(
            "chargeback-after-use",
            F,
            0.85,
            r"\b(disput\w*|reverse|chargeback|charge back|contracargo\w*|ruckbuchung|estorno)\b.{0,60}\b((after|despite|even though|although|aunque|mesmo|obwohl) (drinking|using|eating|receiving|getting|i got|i received|it arrived|i have|ya|tendo|die ware|es)|i (received|got|liked|enjoyed|kept)|(arrived|came) fine|that arrived|was delivered|(after|once) (they|people|someone|the buyer|i) (get|got|receive|received) (the |my |their )?(item|goods|order|parcel|package|product)|(i('ve| have))? been using|already (drank|drunk|used|ate|eaten|opened|received|got))\b",
        ),
        part(
            "deceive",
            F,
            Role::Deceive,
            r"\b(edit\w*|photoshop\w*|doctor\w*|alter\w*|manipulat\w*|stage\w*|modify\w*|retouch\w*) (the |a |my |this |some )?(photos?|pictures?|images?|pics?|screenshots?|receipts?|videos?)\b.{0,40}\b(looks?|seems?|appears?)\b|\bso (it|they) (looks?|seems?|appears?) (damaged|broken|defective|crushed|faulty|used|stale|dented|smashed)\b|\bmake it (look|seem) (like|as if)\b|\bwithout (actually )?(having|being|there being) (a |any )?(problem|issue|defect|damage|reason|fault)\b|\bnothing (is|was) (actually )?wrong\b|\b(return|send back|returning|sell back) (it|them|the \w+|a used \w+|my used \w+) as (new|unused|unopened)\b|\breport (my |the )?(card|package|parcel|order) (as )?(stolen|lost) (after|once|when)\b|\b(puis-je|je peux|je vais|peut-on) (dire|pretendre|affirmer)\b|\b(puedo|voy a|podria) (decir|fingir|afirmar)\b|\b(posso|vou) (dizer|fingir|alegar)\b|\b(kann ich|soll ich|ich werde) (sagen|behaupten)\b|\b(con|avec|mit|com) (otro|otra|un autre|une autre|einer anderen|einem anderen|outro|outra) (correo|email|e-mail|cuenta|compte|konto|conta|adresse|nombre)\b|\b(with|using) (another|a different|a new|a second|other) (e-?mail|account|name) (to get|for the|again)\b|\b(i have it|i got it|i received it|it arrived|it was delivered)\b.{0,20}\b(but|and) (i )?(want to|will|i'll|gonna)\b|\b(make|create|open|use) (new|multiple|more|fake|extra|several|different|\d+) accounts\b|\b(use|using) (my \w+'s|someone else's|a friend's|another|a different|a new|a fake|fake) (e-?mail|account|name|address|phone)\b|\b(send|return|ship|mail) (anything|nothing) back\b|\b(caja vacia|boite vide|caixa vazia|leere[nr]? (box|karton|schachtel|paket))\b|\b(je (la |le |les )?garde|mais je garde|me quedo con|(eu )?fico com|ich behalte)\b|\b(return|send back|ship back|returning|mail back)\b.{0,20}\b(empty (box|package|parcel)|a brick|rocks|something else|a different (item|product|one)|a cheaper \w+|a broken one)\b|\b(and|but) still (get|keep|receive) (a |my |the )?(refund\w*|money back|credit|paid|compensat\w*)\b|\beven though (it|they) (did|does|do)\b|\beven though (it|they) (was|were) (delivered|fine|received|working|perfect|ok|okay)\b|\b(and|then|just) (say|claim|pretend|tell (you|them)) (that )?(it|they|the \w+|i) (arrived|came|was|were|got|never|didn't)\b|\bi broke (it |them )?(myself|on purpose)\b|\b(new|another|different|fresh) (e-?mail|account|name|card|address)s? (every|each) time\b|\b(sign(ing)? up|register(ing)?|creat(e|ing) (an |new )?accounts?)\b.{0,40}\b(again and again|every time|each time|multiple times|over and over|new e-?mails?)\b|\b(nobody|no one|no-one) (will |would |ever )?(check|checks|notice|notices|know|knows|find out|verif(y|ies))\b|\b(you|they) (won't|wouldn't|will never|never|don't|can't) (check|notice|know|find out|verify|tell the difference)\b|\binstead of (sending|returning|giving|shipping) (it|them|the \w+)( back)?\b|\b(behalt\w*)\b.{0,30}\btrotzdem\b|\btrotzdem (behalt\w*)\b|\bund (die \w+ )?behalte\b|\bet (le |la |les )?garder\b|\ben (le |la |les )?gardant\b|\by quedarme (con|el|la)\b|\be ficar com\b|\bstag(e|ed|ing) (a |the )?(return|delivery|theft|damage|accident|break-?in)\b|\bfake (\w+ ){0,2}(reviews?|receipts?|accounts?|customers|people|users|profiles|buyers|claims?|allergy|names?|emails?|photos?|pictures?|complaints?|damage|ids?|invoices?|orders?|tracking|identit\w*)\b|\bfake it\b|\bfalse (claims?|reports?|complaints?|reviews?|receipts?|names?|accounts?|allergy|damage)\b|\bfalsely\b|\bfabricat\w*|\bforg(e|ed|ery|ing)\b|\blie(s|d)? (about|to)\b|\blying\b|\bpretend(ing)? (to be|it|that|i|the|its|i'm)\b|\b(can|could|should|shall|if|what if|when) i (just )?(say|claim|tell you|tell them|tell the bank|pretend)\b|\b(i'll|i will|i'm going to|im going to|gonna) (just )?(say|claim|pretend) (that )?(it|they|the|my|i)\b|\bwhat should i tell my bank\b|\beven though (it|they|the \w+|i|we)( \w+)? (arrived|was delivered|were delivered|got|received|works|worked|was fine|is fine|came)\b|\b(although|but) (i|we) (actually )?(got|received|have) (it|them|the \w+)\b|\bwhen (it|they) (wasn't|weren't|was not|did|actually)\b|\bmark (it|this|that|my order|the order|the item|the \w+) as (returned|lost|delivered|damaged|undelivered|refunded|not delivered)\b|\b(not|never|won't|without) (be )?(sending|send|returning|return|giving) (it|them|the \w+|anything)( back)?\b|\b(refund\w*|money back|chargeback|charge back|disput\w*|reverse|contest|credit)\b.{0,60}\b(and|but|while|then|yet) (i'll |i will |i |still |also |just |to )*keep\b|\bkeep (it|the \w+|them|both)\b.{0,40}\b(and|but|while) (still )?(get|getting) (a |my |the )?(refund|money back|credit)\b|\bnobody (will|would) (check|notice|know)|\bwithout (you|anyone|them) (noticing|knowing|finding out)|\bwithout getting caught\b|\bget away with\b|\b(swap|switch|change|replace) (the )?(serial( number)?|label|sticker|barcode|tag)s?\b|\bsend (back )?(a |an )?(cheaper|different|broken|used|old|fake|counterfeit) \w+ (in|instead)\b|\bcheaper \w+ in the \w+( \w+)? box\b|\b(return|send back|returning) (a )?(used|worn|opened) \w+( \w+)? as (new|unused)\b|\b(multiple|several|many|different|fake|dummy|throwaway|burner|extra) (accounts|emails|e-mails|names|identities)\b|\b(different|fake|burner|throwaway|prepaid|virtual) cards\b|\bhow many accounts\b|\brefer(ring)? myself\b|\b(use|using|reuse|reusing|redeem|redeeming|apply|applying|claim|get)\b.{0,40}\b(promo|code|coupon|discount|trial|referral|welcome|first-order|bonus)\w*\b.{0,30}\b(multiple times|more than once|over and over|again and again|repeatedly|twice|many times)\b|\b(meant|reserved|intended|only) for (employees|staff)\b|\bi'll say i (work|am)\b|\b(abus\w*|exploit\w*|loophole|cheat\w*|game the)\b|\btrick (to|for|the|is)\b|\bthe trick\b|\bby editing\b|\b(edit|modify|tamper with) (the )?(price|checkout|request|html|cookie)\b|\b(card|cards) (i found|that isn't mine|that's not mine|i found on)\b|\bcard without (asking|permission|telling)\b|\bhow (do|should|can|would) i (word|phrase)\b|\bwhat (words|wording|excuse|story|reason) (would|will|should|could|works?)\b|\bmake it stick\b|\b(says|shows|marked( as)?|showing) delivered\b.{0,40}\b(sitting|is here|i have it|i've got it|got it|in my (kitchen|house|hands|room|apartment|flat|office|garage|hallway))\b|\bmake sure (the \w+|they|you|nobody|no one|your \w+)( \w+)? (doesn't|don't|won't|can't|does not|do not|will not|never) (spot|notice|see|find|detect|catch|realise|realize|figure out|tell)\b|\b(hide|conceal|cover up|disguise|mask) (the |my |any )?(\w+ )?(water damage|damage|dents?|cracks?|evidence|signs)\b|\ben (disant|pretendant|faisant croire)\b|\bdiciendo que\b|\bfingiendo\b|\bdizendo que\b|\bfingindo\b|\bwenn ich (sage|behaupte)\b|\bbehaupte\w*\b|\b(faux|fausses?|falsas?|falsos?|gefalscht\w*)\b|\bsans (renvoyer|retourner|rendre)\b|\bsin (devolver|regresar|enviar de vuelta)\b|\bohne (die ware |es |sie )?(zuruckzuschicken|zuruckzusenden|zuruckzugeben)\b|\bsem (devolver|enviar de volta)\b|\baunque ya\b|\bmesmo tendo\b|\bobwohl\b",
        )
        .unless(FAKE_REVIEW_VICTIM),
        part(
            "gain",
            F,
            Role::Gain,
            r"\brefund\w*|\bmoney back\b|\breimburs\w*|\bcompensat\w*|\bchargebacks?\b|\bcharge ?back\b|\bdisput\w*|\bgeld zuruck\b|\breverse the charge|\bstore credit\b|\bcredit\b|\breturn\w*\b|\breviews?\b|\bratings?\b|\bstars?\b|\bpromo\w*|\bdiscount\w*|\bcoupons?\b|\bcodes?\b|\breferral\w*|\bfree\b|\btrial\b|\bwarranty\b|\breplacement\b|\bsecond one\b|\banother one\b|\bpoints\b|\bvoucher\w*|\bgift ?cards?\b|\brembours\w*|\breembols\w*|\bcontracargo\w*|\bruckerstattung\w*|\berstattung\w*|\bestorno\w*|\bruckbuchung\b|\bavis\b|\bresenas?\b|\bbewertung\w*|\bavaliac\w*|\bcupon\w*|\bdescuento\w*|\bdesconto\w*|\brabais\b|\bremise\b|\brabatt\w*|\bcupom\b|\bgutschein\w*|\bdevoluc\w*|\bretour\w*|\bresend (it|them|the (parcel|package|order|item|box))\b|\bsend (me )?(another|a new) one\b|\b(warranty|damage|defect|insurance|missing|lost) claims?\b|\bclaim (it |that it |a |the )?(as )?(manufactur\w* )?(defect\w*|damaged|missing|lost|stolen)\b|\bmanufactur\w* defect\w*|\b(welcome|save|first|new|extra|take|free|bonus|promo|spring|summer|winter|autumn|fall|holiday|xmas|cyber)[a-z]*\d{1,3}\b",
        ),
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
