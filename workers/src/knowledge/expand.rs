//! Query expansion: the knowledge base's words for what customers say.
//!
//! Customers write "opening hours", "my machine is broken", "ship to
//! Texas"; the passages say "Monday to Friday 8am-8pm", "brewer defects",
//! "continental US". BM25 only matches words, so before searching, phrases
//! customers use are mapped to the words the passages use (a small,
//! reviewed table rather than a thesaurus: every entry was added for a
//! query that otherwise found the wrong passage). French and Spanish
//! queries are also mapped word by word to English, so a question in a
//! language the passage was never translated into still finds the English
//! passage.
//!
//! Patterns match at word starts on lower-cased, accent-folded text, so
//! `annul` covers "annuler", "annulée", "annulation".

use crate::language::Language;

/// English customer phrasing → knowledge-base words.
const EN_SYNONYMS: &[(&str, &str)] = &[
    ("opening hour", "hours support monday friday saturday"),
    ("open ", "hours support monday friday saturday"),
    ("close ", "hours support monday friday saturday"),
    ("closed ", "hours support monday friday saturday"),
    ("business hour", "hours support monday friday saturday"),
    ("hours", "support monday friday saturday"),
    ("phone", "contact support phone"),
    ("call you", "contact support phone"),
    ("reach", "contact support"),
    ("real person", "contact support"),
    ("human", "contact support"),
    ("agent", "contact support"),
    ("email address", "contact support email"),
    ("broke", "defect warranty troubleshooting"),
    ("stopped working", "defect warranty troubleshooting"),
    ("not working", "defect warranty troubleshooting"),
    ("doesn't work", "defect warranty troubleshooting"),
    ("won't turn on", "turn on power troubleshooting"),
    ("wont turn on", "turn on power troubleshooting"),
    ("dead ", "defect warranty troubleshooting"),
    ("faulty", "defect warranty"),
    ("malfunction", "defect warranty troubleshooting"),
    ("leak", "leaks troubleshooting"),
    ("machine", "brewer"),
    ("coffee maker", "brewer"),
    ("appliance", "brewer"),
    ("money back", "refund"),
    ("send back", "return"),
    ("send it back", "return"),
    ("swap", "exchange"),
    ("compost", "biodegradable"),
    ("eco ", "biodegradable"),
    ("environment", "biodegradable"),
    ("log in", "account password sign"),
    ("login", "account password sign"),
    ("sign in", "account password sign"),
    ("dispatch", "ships processing"),
    ("warehouse", "ships processing"),
    ("leave the warehouse", "ships processing"),
    ("give my points", "transfer"),
    ("give points", "transfer"),
    ("worth", "redeem"),
    ("stop the order", "cancel"),
    ("stop my order", "cancel"),
    ("wrong address", "address change"),
    ("moved", "address change"),
    ("crushed", "damaged"),
    ("arrive", "delivery transit"),
    ("recogni", "charge"),
    ("how much", "cost costs"),
    ("bitter", "clean descale"),
    ("weak", "clean descale"),
    ("slow", "clean descale"),
    ("no package", "missing package delivered"),
    ("not received", "missing"),
    ("never arrived", "missing late"),
    ("never got", "missing"),
    // Ways to reach support and how fast it answers.
    ("live chat", "contact support chat hours"),
    ("chat ", "contact support chat"),
    ("customer care", "contact support"),
    ("customer service", "contact support"),
    ("reply", "contact support answer emails"),
    ("respond", "contact support answer emails"),
    ("response time", "contact support answer emails"),
    ("get back to", "contact support answer emails"),
    // Carriers, speeds and signatures.
    ("courier", "carriers ups fedex usps"),
    ("overnight", "carriers overnight express"),
    ("next day", "carriers overnight next day"),
    ("next-day", "carriers overnight next day"),
    ("express", "carriers express"),
    ("expedit", "carriers express overnight"),
    ("rush", "carriers express overnight"),
    ("fedex", "carriers fedex signature"),
    ("ups ", "carriers ups signature"),
    ("sign for", "signature carriers"),
    ("signature", "signature carriers"),
    // When an order leaves.
    ("go out", "ships processing business day"),
    ("goes out", "ships processing business day"),
    ("send out", "ships processing business day"),
    ("sent out", "ships processing business day"),
    ("ship out", "ships processing business day"),
    ("weekend", "ships processing weekend business day"),
    // Tracking that disagrees with the doorstep.
    ("says delivered", "missing package delivered"),
    ("shows delivered", "missing package delivered"),
    ("marked delivered", "missing package delivered"),
    ("marked as delivered", "missing package delivered"),
    ("showed up", "missing package delivered"),
    ("turned up", "missing package delivered"),
    ("street", "address change"),
    ("typo", "address change"),
    // The return window, conditions and damage on arrival.
    ("time limit", "return window days within"),
    ("deadline", "return window days within"),
    ("too late", "return window days within"),
    ("how long do i have", "return window days within"),
    ("how many days", "window days within"),
    ("label", "return authorization label"),
    ("parts", "original accessories condition"),
    ("accessor", "original accessories condition"),
    ("packaging", "original box condition"),
    ("crack", "damaged defective arrives"),
    ("chipped", "damaged defective arrives"),
    ("shatter", "damaged defective arrives"),
    ("smashed", "damaged defective arrives"),
    ("dented", "damaged defective arrives"),
    // Brewer symptoms.
    ("noise", "troubleshooting defect"),
    ("noisy", "troubleshooting defect"),
    ("half a cup", "troubleshooting brews slowly"),
    ("won't brew", "troubleshooting defect"),
    ("wont brew", "troubleshooting defect"),
    // Military addresses.
    ("apo", "military apo fpo po boxes"),
    ("fpo", "military apo fpo po boxes"),
    ("military", "military apo fpo po boxes"),
    // Loyalty: earning rate, expiry, balance.
    ("each dollar", "earn per $1 spent"),
    ("per dollar", "earn per $1 spent"),
    ("every dollar", "earn per $1 spent"),
    ("run out", "expire expiration"),
    ("lapse", "expire expiration"),
    ("expir", "expire expiration"),
    ("points i have", "balance dashboard"),
    ("points do i have", "balance dashboard"),
    ("my balance", "balance dashboard"),
    ("points balance", "balance dashboard"),
];

/// Phrases that mean something only together: every pattern of the first
/// list and at least one of the second must start a word of the text.
/// "Do returns cost anything" is about return fees, not shipping costs;
/// "has the box I sent back reached you" is about tracking a return.
const EN_COMBINATIONS: &[(&[&str], &[&str], &str)] = &[
    (
        &["return"],
        &["cost", "charge", "fee", "pay", "free"],
        "fees restocking free returns",
    ),
    (
        &["send", "back"],
        &["cost", "charge", "fee", "pay", "free"],
        "fees restocking free returns",
    ),
    (
        &["back"],
        &["track", "reach", "arriv", "receiv", "got it", "status"],
        "track return arrives",
    ),
    (
        &["return"],
        &["track", "reached", "arrived", "received", "status of"],
        "track return arrives",
    ),
    (
        &["send", "back"],
        &["still", "weeks", "days", "month", "since"],
        "return window days within",
    ),
    (
        &["return"],
        &["still", "weeks since", "days since", "month"],
        "return window days within",
    ),
];

/// Canadian and Mexican places that stand for their country.
const CANADA_PLACES: &[&str] = &[
    "toronto",
    "montreal",
    "vancouver",
    "calgary",
    "ottawa",
    "edmonton",
    "winnipeg",
    "halifax",
    "quebec",
    "ontario",
    "alberta",
    "british columbia",
    "manitoba",
    "nova scotia",
    "saskatchewan",
];
const MEXICO_PLACES: &[&str] = &[
    "mexico city",
    "guadalajara",
    "monterrey",
    "cancun",
    "tijuana",
    "puebla",
];

/// Countries BrewVi does not ship to: the answer is the international
/// shipping passage.
const ABROAD: &[&str] = &[
    "uk",
    "united kingdom",
    "england",
    "europe",
    "france",
    "germany",
    "spain",
    "italy",
    "australia",
    "japan",
    "china",
    "india",
    "brazil",
    "ireland",
    "overseas",
    "abroad",
];

/// The 48 contiguous states (and DC): the answer is the continental-US
/// transit time. Alaska and Hawaii are named in the passage itself.
const CONTINENTAL_STATES: &[&str] = &[
    "alabama",
    "arizona",
    "arkansas",
    "california",
    "colorado",
    "connecticut",
    "delaware",
    "florida",
    "georgia",
    "idaho",
    "illinois",
    "indiana",
    "iowa",
    "kansas",
    "kentucky",
    "louisiana",
    "maine",
    "maryland",
    "massachusetts",
    "michigan",
    "minnesota",
    "mississippi",
    "missouri",
    "montana",
    "nebraska",
    "nevada",
    "new hampshire",
    "new jersey",
    "new mexico",
    "new york",
    "north carolina",
    "north dakota",
    "ohio",
    "oklahoma",
    "oregon",
    "pennsylvania",
    "rhode island",
    "south carolina",
    "south dakota",
    "tennessee",
    "texas",
    "utah",
    "vermont",
    "virginia",
    "washington",
    "west virginia",
    "wisconsin",
    "wyoming",
    "district of columbia",
];

/// Places named in the text (whole words) → the knowledge-base words of
/// the passage that covers them.
const PLACES: &[(&[&str], &str)] = &[
    (CONTINENTAL_STATES, "continental transit times region"),
    (&["alaska", "hawaii"], "transit times region"),
    (CANADA_PLACES, "canada"),
    (MEXICO_PLACES, "mexico"),
    (ABROAD, "international"),
];

/// French (accent-folded word starts) → English knowledge-base words.
const FR_TO_EN: &[(&str, &str)] = &[
    ("horaire", "hours support"),
    ("heure", "hours support"),
    ("ouvert", "hours support"),
    ("ferm", "hours support"),
    ("joindre", "contact support"),
    ("telephon", "contact support phone"),
    ("courriel", "contact support email"),
    ("retour", "return"),
    ("retourn", "return"),
    ("rembours", "refund"),
    ("annul", "cancel"),
    ("commande", "order"),
    ("expedi", "ships shipping"),
    ("livr", "delivery shipping"),
    ("colis", "package delivery"),
    ("suivi", "tracking"),
    ("garantie", "warranty"),
    ("cafetiere", "brewer"),
    ("machine", "brewer"),
    ("fonctionne", "defect troubleshooting"),
    ("brise", "defect troubleshooting"),
    ("panne", "defect troubleshooting"),
    ("fuit", "leaks troubleshooting"),
    ("allum", "turn on power"),
    ("nettoy", "clean"),
    ("detartr", "descale"),
    ("capsule", "pods"),
    ("abonnement", "subscription auto-delivery"),
    ("point", "points rewards"),
    ("recompense", "rewards"),
    ("echang", "exchange"),
    ("endommag", "damaged"),
    ("defectu", "defective"),
    ("frais", "cost fees"),
    ("gratuit", "free"),
    ("canada", "canada"),
    ("mexique", "mexico"),
    ("etats-unis", "us"),
    ("international", "international"),
    ("jours", "days"),
    ("delai", "window times"),
    ("compte", "account"),
    ("mot de passe", "password"),
    ("carte-cadeau", "gift card"),
    ("carte cadeau", "gift card"),
    ("facture", "charge billing"),
];

/// Spanish (accent-folded word starts) → English knowledge-base words.
const ES_TO_EN: &[(&str, &str)] = &[
    ("horario", "hours support"),
    ("hora", "hours support"),
    ("abiert", "hours support"),
    ("atencion", "contact support"),
    ("contact", "contact support"),
    ("telefono", "contact support phone"),
    ("correo", "contact support email"),
    ("devol", "return"),
    ("reembols", "refund"),
    ("cancel", "cancel"),
    ("pedido", "order"),
    ("envi", "ships shipping"),
    ("entreg", "delivery"),
    ("paquete", "package delivery"),
    ("seguimiento", "tracking"),
    ("rastre", "tracking"),
    ("garantia", "warranty"),
    ("cafetera", "brewer"),
    ("maquina", "brewer"),
    ("funciona", "defect troubleshooting"),
    ("rot", "defect troubleshooting"),
    ("averi", "defect troubleshooting"),
    ("gotea", "leaks troubleshooting"),
    ("enciende", "turn on power"),
    ("limpi", "clean"),
    ("descalcific", "descale"),
    ("capsula", "pods"),
    ("suscripcion", "subscription auto-delivery"),
    ("punto", "points rewards"),
    ("recompensa", "rewards"),
    ("cambi", "exchange"),
    ("danad", "damaged"),
    ("defectuos", "defective"),
    ("coste", "cost"),
    ("costo", "cost"),
    ("gratis", "free"),
    ("canada", "canada"),
    ("mexico", "mexico"),
    ("estados unidos", "us"),
    ("internacional", "international"),
    ("tarda", "delivery times"),
    ("dias", "days"),
    ("plazo", "window times"),
    ("cuenta", "account"),
    ("contrasena", "password"),
    ("tarjeta regalo", "gift card"),
    ("cargo", "charge billing"),
];

/// Lower-cased, accent-folded text with single spaces between words, so
/// patterns can be matched at word starts.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match crate::language::unaccent(c) {
            '’' => '\'',
            c => c,
        };
        if c.is_alphanumeric() || c == '\'' || c == '-' {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Whether `pattern` starts a word of `folded` (and, if it holds a space,
/// continues over the following words).
fn starts_word(folded: &str, pattern: &str) -> bool {
    folded.contains(&format!(" {pattern}")) || folded.contains(&format!("'{pattern}"))
}

/// Whether `name` occurs as whole words in `folded`.
fn names(folded: &str, name: &str) -> bool {
    folded.contains(&format!(" {name} "))
}

fn collect(folded: &str, table: &[(&str, &'static str)], out: &mut Vec<&'static str>) {
    for &(pattern, words) in table {
        if starts_word(folded, pattern) {
            out.push(words);
        }
    }
}

/// English knowledge-base words for `text` written in `language`: the
/// synonyms of its phrases and, for French or Spanish, the English words
/// for its words. Empty when nothing in the tables applies.
pub fn english_words(text: &str, language: Language) -> String {
    let folded = fold(text);
    let mut words: Vec<&'static str> = Vec::new();
    match language {
        Language::En => {
            collect(&folded, EN_SYNONYMS, &mut words);
            for &(all, any, add) in EN_COMBINATIONS {
                let all_hit = all.iter().all(|p| starts_word(&folded, p));
                if all_hit && any.iter().any(|p| starts_word(&folded, p)) {
                    words.push(add);
                }
            }
        }
        Language::Fr => collect(&folded, FR_TO_EN, &mut words),
        Language::Es => collect(&folded, ES_TO_EN, &mut words),
    }
    for &(places, topic) in PLACES {
        if places.iter().any(|p| names(&folded, p)) {
            words.push(topic);
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_customer_phrasing_when_expanded_then_the_passages_words_come_out() {
        assert!(english_words("What are your opening hours?", Language::En).contains("monday"));
        assert!(english_words("my machine is broken", Language::En).contains("brewer"));
        assert!(english_words("Ship to Texas?", Language::En).contains("continental"));
        assert!(english_words("deliver to the UK", Language::En).contains("international"));
        assert!(english_words("where is my order", Language::En).is_empty());
    }

    #[test]
    fn given_french_or_spanish_when_expanded_then_english_words_come_out_whatever_the_accents() {
        let fr = english_words(
            "Je veux annuler ma commande avant l'expédition",
            Language::Fr,
        );
        assert!(fr.contains("cancel") && fr.contains("order") && fr.contains("ships"));
        let es = english_words("¿Cuánto tarda el envío a México?", Language::Es);
        assert!(es.contains("mexico") && es.contains("shipping"));
        let unaccented = english_words("expedition", Language::Fr);
        assert_eq!(unaccented, english_words("expédition", Language::Fr));
    }

    #[test]
    fn given_words_that_mean_something_only_together_when_expanded_then_the_combined_topic() {
        assert!(english_words("do returns cost anything", Language::En).contains("fees"));
        assert!(!english_words("how much does shipping cost", Language::En).contains("fees"));
        assert!(
            english_words("has the box I mailed back reached you", Language::En).contains("track")
        );
        assert!(english_words("returning from toronto", Language::En).contains("canada"));
        assert!(english_words("which couriers do you use", Language::En).contains("carriers"));
    }
}
