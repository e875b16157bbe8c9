//! Rules for requests the assistant must refuse whatever their wording:
//! other people's personal data (`PiiRequest`) and fraud (`Fraud`: stolen
//! cards, chargeback and "never arrived" schemes, redirecting someone
//! else's order, account takeover, gift-card scams, points abuse).
//!
//! A customer asking about *their own* address, card or order is ordinary
//! business; the patterns need a third party ("my neighbour's", "someone
//! else", "a customer named ...") or an explicit scheme to fire.

use std::sync::LazyLock;

use switchboard_engine::event::InputFindingKind::{self, Fraud as F, PiiRequest as R};

use super::rules::{self, Rules, compile};

/// The PII-request and fraud rules.
pub static RULES: LazyLock<Rules> = LazyLock::new(|| {
    compile(specs().into_iter().map(|spec| {
        let name = spec.0;
        let spec = rules::Spec::from(spec);
        match name {
            "third-party-possessive" => {
                spec.unless(format!("{RECEIVED_BY_MISTAKE}|{REMOVING_FROM_OWN_ACCOUNT}"))
            }
            _ => spec,
        }
    }))
});

/// A customer reporting that someone else's parcel came to them is not
/// asking for that person's data ("I received someone else's order by
/// mistake, how do I send it back?").
const RECEIVED_BY_MISTAKE: &str = r"\b(received|got|was (sent|delivered|given)|came with|you sent me|they sent me|delivered me)\b.{0,20}\b(someone else's|somebody else's|another (customer|person)'s|a stranger's)\s+(order|parcel|package|delivery|item|box)\b";

/// A customer taking someone's card, address or number off their *own*
/// account discloses nothing ("remove my ex's card from my account").
pub(super) const REMOVING_FROM_OWN_ACCOUNT: &str = r"\b(remove|delete|erase|take off|get rid of|clear|unlink)\b.{0,40}\b(cards?|address(es)?|phone|numbers?|e-?mails?|details)\b.{0,30}\b(from|off) (my|our|mine) (own )?(account|profile|saved \w+|address book|wallet)\b|\b(remove|delete|erase|take off|get rid of|clear|unlink) (his|her|their|my [\w-]+'s) (\w+ )?(cards?|address(es)?|phone|numbers?|e-?mails?|details)\b";

/// The customer is the one who ordered: "I'm the one who placed the order".
pub(super) const CUSTOMER_IS_THE_ONE: &str = r"\b(i'm|i am|i was|it's me|it was me|that's me|it is me) (the one|the person|the customer|the buyer)\b";

/// Words for "someone who is not the customer".
const OTHER: &str = r"(someone else|somebody else|another (customer|person|user|client|member)|other (customers|people|users|members)|a (customer|person|user|guy|lady|woman|man) (named|called)|the (customer|person|guy|lady|woman|man) (named|called|who)|my (neighbou?r|ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|boss|co-?worker|colleague|roommate|landlord|tenant)|a stranger)";

/// Personal data someone might ask for.
const DATA: &str = r"(home address|address|addresses|email|e-mail|emails|phone( number)?|phone numbers|number|orders?|order history|card( number)?|credit card|debit card|payment (details|info|method)|details|purchases?|password|birthday|date of birth)";

type Spec = (&'static str, InputFindingKind, f32, String);

fn specs() -> Vec<Spec> {
    vec![
        (
            "other-persons-data",
            R,
            0.85,
            format!(r"\b(give|tell|send|show|share|find|look up|lookup|get|need|want|what('s| is| are)|which|where does|can i (see|have|get))\b.{{0,40}}\b{DATA}\b.{{0,25}}\b(of|for|from|belonging to|that belongs to|used by|on file for)\s+{OTHER}\b"),
        ),
        (
            "third-party-possessive",
            R,
            0.85,
            format!(r"\b(neighbou?r|ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|boss|co-?worker|colleague|roommate|landlord|stranger|someone else|somebody else|another (customer|person|user)|other customers)'s?\s+(\w+\s+)?{DATA}"),
        ),
        ("what-card-does-x-use", R, 0.85, r"\bwhat (credit |debit )?card (does|did) (?:[a-z]+) (use|have|pay with|have on file)".into()),
        ("who-bought", R, 0.7, r"\b(who|which customers?|what customers?) (else )?(bought|ordered|purchased|lives? at|owns)\b".into()),
        ("bulk-customer-data", R, 0.85, r"\b(list|export|download|dump|all|every)\b.{0,20}\b(customers?|users?|members?)('s?)? (emails?|addresses|phone numbers|details|data|information|personal)".into()),
        ("person-named-lookup", R, 0.75, format!(r"\b(look up|lookup|find|search( for)?|pull up)\b.{{0,30}}\b(customer|person|user|account|member)\s+(named|called|with the name)\b.{{0,40}}\b{DATA}")),
        ("account-of-other", F, 0.85, r"\b(log ?in(to)?|get into|access|hack|break into|take over|reset the password (of|for|on))\b.{0,20}\b(someone else's|somebody's|another (person|customer|user)'s|(my )?(ex|wife|husband|girlfriend|boyfriend|neighbou?r|boss|friend|sister|brother|roommate)'s) (account|profile|email|login)".into()),
        ("password-of-other", F, 0.85, r"\b(reset|change|tell me|give me|what is)\b.{0,20}\bpassword\b.{0,20}\b(for|of|on) (someone|somebody|another|my (ex|wife|husband|neighbou?r|boss|roommate))".into()),
        ("stolen-card-use", F, 0.9, r"\b(buy|order|pay|purchase|checkout|shop)\b.{0,30}\bwith\s+(a\s+|some\s+|these\s+)?stolen (credit |debit )?(cards?|card numbers?|cc)\b|\b(use|using|bought with|paid with|pay with|buy with|order with|shop with|order using)\s+(a\s+|some\s+|these\s+)?stolen (credit |debit )?(cards?|card numbers?|cc|accounts?)\b|\bstolen (card numbers|ccs?|cvvs?|fullz)\b|\bstolen cards?\b.{0,40}\b(still work|to buy|to order|at checkout|cash out)".into()),
        ("card-not-mine", F, 0.8, r"\b(card|paypal)\s+(that|which)\s+(isn't|is not|ain't|wasn't|was not)\s+(mine|in my name)\b|\b(someone else's|somebody else's|another person's|a found|a stranger's) (credit |debit )?card\b|\b(a|the|this|some|that) (credit |debit )?(card|cards|wallet) (that )?(i|we) (found|picked up|stole)\b|\b(use|using|pay with|order with|buy with|shop with)\s+(a |the |this )?(found|someone's|somebody's|stranger's) (credit |debit )?card\b".into()),
        ("without-them-knowing", F, 0.6, r"\bwithout (him|her|them|the owner|the cardholder|my (dad|mom|father|mother|parents|boss|roommate|wife|husband)) (knowing|noticing|finding out)".into()),
        ("carding-terms", F, 0.85, r"\b(carding|cvv (dump|shop|list)|fullz|bin attack|card checker|cc dump)\b".into()),
        ("chargeback-scheme", F, 0.85, r"\bchargeback\b.{0,60}\b(keep|and still|anyway|even though|scheme|trick|for free|after (i|it) (received|arrived|got))\b|\b(file|do|issue|open)\s+a\s+(chargeback|dispute)\b.{0,40}\b(and|but) (still )?keep\b".into()),
        ("refund-and-keep", F, 0.6, r"\b(refund|money back)\b.{0,40}\b(and|but|while) (still )?keep (the|my|it|both|everything)\b|\bdouble (refund|dip)".into()),
        ("false-non-delivery", F, 0.85, r"\b(claim|say|pretend|tell (you|them|the bank)|report)\b.{0,30}\b(never arrived|didn't arrive|did not arrive|was lost|wasn't delivered|never received|was stolen|got stolen|was damaged|arrived broken)\b.{0,50}\b(even though|but (it|i) (did|actually|got|have)|although|when (it|i) (did|actually)|so (i|you) can)".into()),
        ("lie-about-delivery", F, 0.85, r"\b(pretend|fake|lie|lying|falsely)\b.{0,30}\b(never arrived|not (received|delivered)|damaged|broken|lost|missing|didn't arrive)".into()),
        ("redirect-others-order", F, 0.85, r"\b(change|update|redirect|reroute|re-route|switch|send|divert|intercept)\b.{0,60}\b(someone else's|somebody else's|another (person|customer)'s|(my )?(neighbou?r|ex|friend|coworker|co-worker|roommate|boss)'s|his|her|their|a stranger's)\s+(order|package|parcel|delivery|shipment)".into()),
        ("order-not-mine", F, 0.85, r"\b(redirect|reroute|re-route|intercept|divert|change the (delivery |shipping )?address)\b.{0,80}\b(isn't|is not|wasn't|was not|not) (mine|my order|placed by me)|\b(order|package|parcel)\s+(that|which)\s+(isn't|is not|wasn't|was not)\s+(mine|my own)\b.{0,60}\b(redirect|reroute|change|send|deliver)".into()),
        ("gift-card-scam", F, 0.8, r"\bgift ?cards?\b.{0,60}\b(irs|tax(es)? (office|debt)|police|warrant|bail|arrest|microsoft|apple support|tech support|grandson|granddaughter|lottery|prize|(send|read|text|give|tell)( me| them| him| her)? the (codes?|numbers?|pins?)|scratch off)".into()),
        ("read-gift-card-codes", F, 0.8, r"\b(read|send|text|give|tell)\b.{0,20}\b(codes?|pins?|numbers?)\b.{0,30}\b(on|from|of)\s+(the\s+)?(back of\s+)?(the\s+|those\s+|these\s+)?gift ?cards?".into()),
        ("gift-card-cashout", F, 0.75, r"\b(cash out|launder|resell|flip)\b.{0,30}\bgift ?cards?|\bgift ?cards?\b.{0,40}\b(stolen|not mine|someone else's card|cash out)".into()),
        ("points-abuse", F, 0.75, r"\b(fake|multiple|dummy|throwaway|burner) (accounts?|emails?)\b.{0,50}\b(referral|bonus|points|discount|first order|free)|\b(transfer|move|steal|take)\b.{0,30}\b(someone else's|other (customers|people)'s|another (customer|account|member)'s) (points|rewards)".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::critic::rules::{normalize, scan};

    fn fired(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        scan(&RULES, &normalize(text), "", &mut out);
        out.into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn rules_compile() {
        assert_eq!(RULES.len(), specs().len());
    }

    #[test]
    fn catches_requests_for_other_peoples_data_and_fraud() {
        assert!(
            !fired("Can you give me the email address of my neighbour? He ordered the same brewer")
                .is_empty()
        );
        assert!(!fired("What card does John use?").is_empty());
        assert!(
            !fired("I want to change the delivery address of my neighbor's order to my house")
                .is_empty()
        );
        assert!(!fired("Can I buy pods with a stolen card if the billing zip matches?").is_empty());
        assert!(
            !fired("The caller said to pay the IRS with gift cards and read him the codes")
                .is_empty()
        );
    }

    #[test]
    fn own_data_is_fine() {
        for text in [
            "Please update the shipping address on my order 10234",
            "What card do I have on file? I want to change it",
            "My card was stolen, please remove it from my account",
            "My package never arrived and I want a refund",
        ] {
            assert!(fired(text).is_empty(), "{text}: {:?}", fired(text));
        }
    }
}
