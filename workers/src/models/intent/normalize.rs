//! Turning a customer's wording into the words the intent model knows.
//!
//! Customers write "wheres my stuff", "refnud pls", "I am writing to enquire
//! as to the whereabouts of my consignment". Three steps bring such wording
//! close to what the model was trained on, before features are hashed:
//! 1. [`canonical_words`]: contractions and texting shorthand are expanded
//!    ("wheres" → "where is", "u" → "you", "pls" → "please"), runs of a
//!    repeated letter are squeezed ("sooooo" → "soo").
//! 2. [`Lexicon::correct`]: a word the training data never used is replaced
//!    by the most frequent training word within a small edit distance
//!    ("refnud" → "refund", "cancle" → "cancel").
//! 3. [`concepts`]: words and phrases that mean the same thing for support
//!    (parcel, package, shipment, order; turned up, arrived, came) add a
//!    shared concept token, so a synonym never seen in training still lands
//!    on the features of the words that were.
//!
//! All three are deterministic and cheap (a message is a few dozen words).

use std::collections::BTreeMap;

use super::features::words;

/// Texting shorthand and contractions, expanded to plain words.
const SHORTHAND: &[(&str, &str)] = &[
    ("u", "you"),
    ("ya", "you"),
    ("ur", "your"),
    ("r", "are"),
    ("pls", "please"),
    ("plz", "please"),
    ("plse", "please"),
    ("pleas", "please"),
    ("thx", "thanks"),
    ("thnx", "thanks"),
    ("thanx", "thanks"),
    ("ty", "thank you"),
    ("tysm", "thank you"),
    ("wheres", "where is"),
    ("whats", "what is"),
    ("hows", "how is"),
    ("whens", "when is"),
    ("hasnt", "has not"),
    ("havent", "have not"),
    ("isnt", "is not"),
    ("wasnt", "was not"),
    ("arent", "are not"),
    ("didnt", "did not"),
    ("dont", "do not"),
    ("doesnt", "does not"),
    ("cant", "can not"),
    ("cannot", "can not"),
    ("wont", "will not"),
    ("wouldnt", "would not"),
    ("couldnt", "could not"),
    ("im", "i am"),
    ("ive", "i have"),
    ("idk", "i do not know"),
    ("rn", "right now"),
    ("b4", "before"),
    ("tmrw", "tomorrow"),
    ("tmr", "tomorrow"),
    ("msg", "message"),
    ("acct", "account"),
    ("pw", "password"),
    ("pwd", "password"),
    ("addr", "address"),
    ("info", "information"),
    ("pkg", "package"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("gotta", "got to"),
    ("gimme", "give me"),
    ("lemme", "let me"),
    ("n", "and"),
    ("w", "with"),
    ("bc", "because"),
    ("cuz", "because"),
    ("coz", "because"),
    ("2day", "today"),
    ("smth", "something"),
    ("sth", "something"),
    ("enquire", "inquire"),
    ("enquiry", "inquiry"),
    ("cancelled", "canceled"),
    ("cancelling", "canceling"),
];

/// Contraction endings: `where's` → `where is`, `can't` → `can not`.
const ENDINGS: &[(&str, &str)] = &[
    ("n't", " not"),
    ("'s", " is"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'m", " am"),
    ("'d", " would"),
];

/// Synonym groups that share a concept token. One- and two-word entries.
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "cparcel",
        &[
            "order",
            "parcel",
            "package",
            "packet",
            "box",
            "shipment",
            "consignment",
            "delivery",
            "stuff",
            "purchase",
            "goods",
            "items",
        ],
    ),
    (
        "carrive",
        &[
            "arrived",
            "arrive",
            "arriving",
            "turned up",
            "showed up",
            "show up",
            "turn up",
            "came",
            "come",
            "received",
            "receive",
            "landed",
            "delivered",
            "get here",
            "got here",
        ],
    ),
    (
        "crefund",
        &[
            "refund",
            "refunded",
            "money back",
            "reimburse",
            "reimbursement",
            "credited",
            "my money",
        ],
    ),
    (
        "chalt",
        &[
            "cancel",
            "canceled",
            "canceling",
            "halt",
            "call off",
            "scrap",
            "abort",
            "stop",
        ],
    ),
    (
        "crecurring",
        &[
            "subscription",
            "subscriptions",
            "auto-delivery",
            "autodelivery",
            "auto delivery",
            "recurring",
            "monthly",
            "every month",
            "auto ship",
            "autoship",
            "membership plan",
        ],
    ),
    (
        "cdevice",
        &[
            "brewer",
            "machine",
            "maker",
            "appliance",
            "device",
            "coffeemaker",
            "unit",
        ],
    ),
    (
        "cfault",
        &[
            "broken",
            "broke",
            "not working",
            "stopped working",
            "faulty",
            "malfunction",
            "malfunctioning",
            "leaking",
            "leaks",
            "error",
            "blinking",
            "flashing",
            "dead",
            "wont turn",
            "will not turn",
            "not turn on",
            "doesnt work",
            "does not work",
        ],
    ),
    (
        "cpoints",
        &["points", "rewards", "loyalty", "tier", "stars", "redeem"],
    ),
    (
        "ccharge",
        &[
            "charge",
            "charged",
            "billed",
            "bill",
            "billing",
            "payment",
            "card",
            "invoice",
            "receipt",
            "debit",
            "debited",
            "transaction",
            "chargeback",
        ],
    ),
    (
        "caccount",
        &[
            "password", "login", "log in", "sign in", "signin", "account", "username", "profile",
        ],
    ),
    (
        "chuman",
        &[
            "human",
            "person",
            "agent",
            "representative",
            "rep",
            "manager",
            "supervisor",
            "real person",
            "someone",
            "somebody",
            "staff",
        ],
    ),
    (
        "ctracking",
        &[
            "tracking",
            "tracker",
            "carrier",
            "courier",
            "usps",
            "ups",
            "fedex",
            "dhl",
            "canada post",
        ],
    ),
    (
        "creturn",
        &[
            "return",
            "send back",
            "ship back",
            "send it back",
            "rma",
            "returning",
        ],
    ),
    (
        "cswap",
        &[
            "exchange",
            "swap",
            "replace",
            "replacement",
            "trade",
            "switch",
        ],
    ),
    (
        "ceta",
        &[
            "how long",
            "how soon",
            "eta",
            "delivery time",
            "shipping time",
            "shipping cost",
            "postage",
        ],
    ),
    (
        "cthanks",
        &["thanks", "thank you", "cheers", "appreciate", "grateful"],
    ),
    (
        "cgreet",
        &[
            "hi",
            "hello",
            "hey",
            "good morning",
            "good afternoon",
            "good evening",
        ],
    ),
];

/// French and Spanish members of the same concepts, accent-folded: a
/// message in either language shares these features with the thousands of
/// English training rows, not only with its own language's few hundred.
const CONCEPTS_FR_ES: &[(&str, &[&str])] = &[
    (
        "cparcel",
        &[
            "commande",
            "commandes",
            "colis",
            "paquet",
            "achat",
            "pedido",
            "pedidos",
            "paquete",
            "compra",
            "orden",
        ],
    ),
    (
        "carrive",
        &[
            "arrive",
            "arrivee",
            "arriver",
            "recu",
            "recue",
            "livre",
            "livree",
            "llegado",
            "llego",
            "llega",
            "llegar",
            "recibido",
            "recibi",
            "entregado",
        ],
    ),
    (
        "crefund",
        &[
            "remboursement",
            "rembourser",
            "rembourse",
            "remboursee",
            "reembolso",
            "reembolsar",
            "reembolsado",
            "mon argent",
            "mi dinero",
        ],
    ),
    (
        "chalt",
        &[
            "annuler",
            "annulez",
            "annule",
            "annulation",
            "cancelar",
            "cancele",
            "cancela",
            "cancelacion",
            "anular",
            "arreter",
            "detener",
        ],
    ),
    (
        "crecurring",
        &[
            "abonnement",
            "livraison automatique",
            "suscripcion",
            "entrega automatica",
            "mensuel",
            "mensual",
        ],
    ),
    (
        "cdevice",
        &[
            "cafetiere",
            "machine",
            "appareil",
            "cafetera",
            "maquina",
            "aparato",
        ],
    ),
    (
        "cfault",
        &[
            "brise",
            "brisee",
            "casse",
            "cassee",
            "panne",
            "fonctionne pas",
            "marche pas",
            "fuit",
            "roto",
            "rota",
            "averiado",
            "averiada",
            "funciona",
            "gotea",
            "error",
            "erreur",
        ],
    ),
    (
        "cpoints",
        &[
            "points",
            "recompenses",
            "fidelite",
            "puntos",
            "recompensas",
            "fidelidad",
        ],
    ),
    (
        "ccharge",
        &[
            "facture",
            "factura",
            "facturation",
            "paiement",
            "pago",
            "cobro",
            "cobrado",
            "cobraron",
            "carte",
            "tarjeta",
            "debite",
            "preleve",
            "cargo",
        ],
    ),
    (
        "caccount",
        &[
            "mot de passe",
            "compte",
            "connexion",
            "connecter",
            "contrasena",
            "cuenta",
            "sesion",
            "perfil",
            "profil",
        ],
    ),
    (
        "chuman",
        &[
            "humain",
            "personne",
            "agent",
            "conseiller",
            "responsable",
            "gerant",
            "humano",
            "persona",
            "agente",
            "gerente",
            "supervisor",
            "alguien",
        ],
    ),
    (
        "ctracking",
        &[
            "suivi",
            "seguimiento",
            "rastreo",
            "rastrear",
            "transporteur",
            "transportista",
        ],
    ),
    (
        "creturn",
        &[
            "retour",
            "retourner",
            "renvoyer",
            "devolver",
            "devolucion",
            "regresar",
        ],
    ),
    (
        "cswap",
        &[
            "echanger",
            "echange",
            "remplacer",
            "cambiar",
            "cambio",
            "reemplazar",
        ],
    ),
    (
        "ceta",
        &[
            "combien de temps",
            "delai",
            "delais",
            "cuanto tarda",
            "cuanto tiempo",
            "plazo",
            "frais de livraison",
            "costo de envio",
        ],
    ),
    ("cthanks", &["merci", "gracias", "remercie", "agradezco"]),
    (
        "cgreet",
        &[
            "bonjour",
            "salut",
            "allo",
            "bonsoir",
            "hola",
            "buenos dias",
            "buenas tardes",
            "buenas",
        ],
    ),
];

/// `word` (already lower-cased) with French and Spanish accents removed.
fn unaccented(word: &str) -> String {
    word.chars().map(crate::language::unaccent).collect()
}

/// Lower-case words with shorthand and contractions expanded and repeated
/// letters squeezed.
pub fn canonical_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in words(text) {
        let word = squeeze(&word);
        let expanded = expand_ending(&word);
        for part in expanded.split_whitespace() {
            match SHORTHAND.iter().find(|(short, _)| *short == part) {
                Some((_, long)) => out.extend(long.split_whitespace().map(str::to_owned)),
                None => out.push(part.to_owned()),
            }
        }
    }
    out
}

fn expand_ending(word: &str) -> String {
    for (ending, replacement) in ENDINGS {
        if let Some(stem) = word.strip_suffix(ending) {
            let stem = match (*ending, stem) {
                ("n't", "wo") => "will",
                ("n't", "ca") => "can",
                ("n't", s) => s,
                (_, s) => s,
            };
            return format!("{stem}{replacement}");
        }
    }
    word.to_owned()
}

/// Runs of three or more of the same letter become two.
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut run = (None, 0usize);
    for c in word.chars() {
        run = if run.0 == Some(c) {
            (Some(c), run.1 + 1)
        } else {
            (Some(c), 1)
        };
        if run.1 <= 2 {
            out.push(c);
        }
    }
    out
}

/// The concept tokens of `words` (one per matching one- or two-word entry).
pub fn concepts(words: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let pair = words.get(i + 1).map(|next| format!("{word} {next}"));
        for (token, members) in CONCEPTS {
            let hit = members
                .iter()
                .any(|m| *m == word || pair.as_deref() == Some(*m));
            if hit {
                out.push(*token);
            }
        }
        let folded = unaccented(word);
        let folded_pair = pair.as_deref().map(unaccented);
        for (token, members) in CONCEPTS_FR_ES {
            let hit = members
                .iter()
                .any(|m| *m == folded || folded_pair.as_deref() == Some(*m));
            if hit && !out.ends_with(&[*token]) {
                out.push(*token);
            }
        }
    }
    out
}

/// Words seen in training with their counts, for spelling correction and
/// vocabulary coverage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lexicon {
    counts: BTreeMap<String, u32>,
}

impl Lexicon {
    /// The lexicon of these word lists.
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut counts = BTreeMap::new();
        for words in texts {
            for w in words {
                *counts.entry(w.clone()).or_insert(0) += 1;
            }
        }
        Self { counts }
    }

    /// From saved `(word, count)` pairs.
    pub fn from_counts(counts: impl IntoIterator<Item = (String, u32)>) -> Self {
        Self {
            counts: counts.into_iter().collect(),
        }
    }

    /// `(word, count)` pairs, sorted.
    pub fn counts(&self) -> impl Iterator<Item = (&str, u32)> {
        self.counts.iter().map(|(w, c)| (w.as_str(), *c))
    }

    /// Whether no word is known (a model saved before lexicons existed).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether `word` was seen in training.
    pub fn contains(&self, word: &str) -> bool {
        self.counts.contains_key(word)
    }

    /// `word` itself when known or too short to correct safely; otherwise
    /// the most frequent known word within edit distance 1 (2 for words of
    /// eight letters or more), or `word` when there is none.
    pub fn correct<'a>(&'a self, word: &'a str) -> &'a str {
        let len = word.chars().count();
        if len < 4 || self.contains(word) || word.chars().any(|c| c.is_ascii_digit()) {
            return word;
        }
        let limit = if len >= 8 { 2 } else { 1 };
        let mut best: Option<(&str, usize, u32)> = None;
        for (known, &count) in &self.counts {
            let klen = known.chars().count();
            if klen.abs_diff(len) > limit || klen < 3 {
                continue;
            }
            let d = strsim::osa_distance(word, known);
            if d > limit {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, bd, bc)) => d < bd || (d == bd && count > bc),
            };
            if better {
                best = Some((known, d, count));
            }
        }
        best.map_or(word, |(known, _, _)| known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn shorthand_and_contractions_expand() {
        assert_eq!(
            canonical_words("Wheres my stuff?? pls help, u said it'd come"),
            strings(&[
                "where", "is", "my", "stuff", "please", "help", "you", "said", "it", "would",
                "come"
            ])
        );
        assert_eq!(
            canonical_words("I can't log in, it won't let me"),
            strings(&[
                "i", "can", "not", "log", "in", "it", "will", "not", "let", "me"
            ])
        );
        assert_eq!(canonical_words("sooooo late"), strings(&["soo", "late"]));
    }

    #[test]
    fn unknown_words_are_corrected_to_frequent_known_ones() {
        let rows = [strings(&["refund", "cancel", "order", "where", "tracking"])];
        let lexicon = Lexicon::build(rows.iter().map(Vec::as_slice));
        assert_eq!(lexicon.correct("refnud"), "refund");
        assert_eq!(lexicon.correct("cancle"), "cancel");
        assert_eq!(lexicon.correct("trackign"), "tracking");
        assert_eq!(lexicon.correct("zebra"), "zebra");
        assert_eq!(lexicon.correct("ordr"), "order");
        assert_eq!(lexicon.correct("the"), "the", "short words are left alone");
    }

    #[test]
    fn synonyms_share_a_concept() {
        let parcel = concepts(&canonical_words("my parcel has not turned up"));
        let order = concepts(&canonical_words("my order has not arrived"));
        assert!(parcel.contains(&"cparcel") && parcel.contains(&"carrive"));
        assert!(order.contains(&"cparcel") && order.contains(&"carrive"));
    }
}
