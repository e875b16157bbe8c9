//! Rules for persona jailbreaks: "DAN", "developer mode", "no
//! restrictions", role-play set-ups, reply-format control and prompt
//! templates. In a coffee shop's support chat nobody legitimately asks the
//! assistant to become someone else, so role assignment alone weighs
//! heavily; softer cues ("act as", "fictional") only block in combination.
//! Patterns run on [`normalize`](super::rules::normalize)d text.

use std::sync::LazyLock;

use switchboard_engine::event::InputFindingKind::{self, Jailbreak as J};

use super::rules::{Rules, compile_with_vetoes};

/// The persona-jailbreak rules.
pub static RULES: LazyLock<Rules> = LazyLock::new(|| compile_with_vetoes(SPECS, veto));

/// Ordinary messages a rule would otherwise match: a phone's or the app's
/// own developer mode ("the app says developer mode is on").
fn veto(rule: &str) -> Option<&'static str> {
    match rule {
        "special-mode" | "mode-enabled" => Some(
            r"\b(app|phone|device|browser|android|iphone|ios|settings|tablet|laptop|brewer|machine|grinder|kettle)\b.{0,50}\b(developer|dev) mode\b|\b(developer|dev) mode\b.{0,50}\b(app|phone|device|browser|android|iphone|ios|settings|tablet|laptop|turn (it )?off|brewer|machine|grinder|kettle|setting)\b",
        ),
        _ => None,
    }
}

const SPECS: &[(&str, InputFindingKind, f32, &str)] = &[
    // --- Persona jailbreaks ------------------------------------------------
    ("do-anything-now", J, 0.95, r"\bdo anything now\b"),
    (
        "dan-persona",
        J,
        0.9,
        r"\b(you are|you're|act as|as|pretend to be|respond as|answer as) (now )?(a )?dan\b|\bdan mode\b|\bdan\s*:|\[dan\]",
    ),
    (
        "special-mode",
        J,
        0.85,
        r"\b(developer|dev|god|unrestricted|uncensored|evil|opposite|chaos|jailbreak|jailbroken|dude|stan|aim|unlocked|sudo)\s+mode\b",
    ),
    (
        "mode-enabled",
        J,
        0.5,
        r"\bmode (is )?(enabled|activated|on)\b",
    ),
    ("jailbreak-word", J, 0.85, r"\bjailbr(eak|oken|eaking)\b"),
    (
        "no-restrictions",
        J,
        0.8,
        r"\b(no|without( any)?|free (of|from)( any)?|not bound by( any)?|broken free of( the)?|freed from( the)?|lacks?( any)?|devoid of|unbound by|beyond|sans)\s+([\w']+\s+){0,4}(restrictions|limitations|limits|filters?|filtering|censorship|guidelines|rules|boundaries|morals|ethics|safeguards|constraints|confines|prohibitions)\b",
    ),
    (
        "unrestricted-adjective",
        J,
        0.6,
        r"\b(uncensored|unfiltered|unfiltred|amoral|unrestricted|unethical|immoral|unhinged|unchained|uninhibited|boundless|unrestrained)\b",
    ),
    (
        "break-policy",
        J,
        0.9,
        r"\b(ignore|ignoring|disregard\w*|forget|bypass\w*|override|break\w*|violat\w*|circumvent\w*)\s+([\w']+\s+){0,4}(openai|open ai|openal|openai's|openal's|content|safety|ethical|moral|usage)\s+(polic(y|ies)|guidelines|rules|filters?|restrictions|protocols)",
    ),
    (
        "vendor-policy",
        J,
        0.6,
        r"\b(openai|openal|open ai|anthropic)('s)?\s+(content\s+)?(polic(y|ies)|guidelines|rules)|\bcontent polic(y|ies)\b",
    ),
    (
        "llm-mention",
        J,
        0.35,
        r"\b(chatgpt|chat gpt|gpt-?[345]|openai|language model|ai model|large language model|llm|bard|claude)\b",
    ),
    (
        "from-now-on",
        J,
        0.35,
        r"\b(from now on|for the rest of (this|our) conversation|henceforth|from this point (on|forward))\b",
    ),
    (
        "you-are-now",
        J,
        0.5,
        r"\b(you are|you're) (now (a|an|the|my|in|called|named)|going to (act|pretend|play|simulate|roleplay))\b|\babout to (become|immerse)\b|\bimmerse yourself\b|\byou will now (act|be|respond|pretend|simulate)\b|\bno longer (a|an|the)\s+(\w+\s+)?(ai|bot|assistant|model)\b",
    ),
    (
        "redefine-assistant",
        J,
        0.7,
        r"(^|\n)\W*(you are|you're|you will be) now\b|\byour (new )?(persona|character|role) (is|will be)\b|\bfrom now on,? you (are|will|must|shall)\b",
    ),
    (
        "lets-play",
        J,
        0.45,
        r"\b(let's|lets|let us) (play|imagine|pretend|roleplay)\b|\balter ego\b|\bopposite day\b",
    ),
    (
        "simulate-mode",
        J,
        0.6,
        r"\b(enable|simulate|activate|enter|switch to|turn on)\s+([\w/]+\s+){0,3}mode\b|\bsimulate (a |an |the )?(\w+ ){0,3}(ai|chatbot|conversation|connection|terminal|character|persona)\b",
    ),
    (
        "act-as-terminal",
        J,
        0.7,
        r"\b(act|acts|behave|behaves|function|functions|work) (like|as) (a |an )?(linux |windows |bash )?(terminal|shell|console|cmd|command line|interpreter|operating system)\b|\byou are now (windows|linux) ",
    ),
    (
        "free-from-all-rules",
        J,
        0.6,
        r"\b(without|from|of) (all|any) (ethical |moral |legal )?(restrictions|rules|guidelines|safeguards|filters|limitations|prohibitions)\b|\bwithout (any )?(refusal|refusing|disclaimers?|warnings?|censorship)\b|\bdo not (filter|censor)\b",
    ),
    (
        "violate-ethics",
        J,
        0.7,
        r"\b(violat\w*|disregard\w*|ignor\w*|break\w*|abandon\w*)\s+(all\s+|any\s+|every\s+)?(ethical|moral|legal)\b|\bbreak\w* (the |all )?(ai |openai |safety )?rules\b",
    ),
    (
        "unrestricted-ai",
        J,
        0.8,
        r"\b(uncensored|unfiltered|unfiltred|amoral|unrestricted|unethical|immoral|uninhibited|boundless|unrestrained|unaligned|lawless)\s+(and\s+\w+\s+)?(\w+\s+){0,2}(ai|chatbot|bot|model|assistant|version|persona|character|entity|language model)\b",
    ),
    (
        "persona-assignment",
        J,
        0.7,
        r"\b(take (up|on) the (persona|role|character|identity)|personify|you are to (act|be|play|pretend|respond|take)|you will (take on|play|assume) the (role|part|persona)|assume the (role|persona|identity) of|play the (role|part) of|in the (role|voice|persona) of|the persona of)\b",
    ),
    (
        "reply-format-control",
        J,
        0.5,
        r"\b(every|each|all( of)? your|all future) (reply|replies|response|responses|message|messages|answer|answers|output)\b|\b(start|begin|preface|end) (each|every|all|your) (reply|replies|response|responses|message|messages|answer|sentence)",
    ),
    (
        "prompt-template",
        J,
        0.8,
        r"\[(your|insert|put|type|enter)( your| a)? (prompt|question|request|topic)|\[(prompt|input|insert|topic)\]|<prompt>|\(prompt\)|\bprompt here\b|\b(show|print|reveal|repeat|tell|give|share|output|display|leak|paste|dump|write out|what'?s|what is|ignore|forget)\b[^.!?]{0,15}\byour (\w+ )?prompt\b|\byour prompt\s*($|[:\]\)'])",
    ),
    (
        "play-a-game",
        J,
        0.7,
        r"\b(let's|lets|let us|i want to|i wanna|want to) play a (game|fun|role)|\btext[- ]based (game|adventure)|\btext adventure\b",
    ),
    (
        "creative-writing-task",
        J,
        0.45,
        r"\b(write|create|compose|generate) (me )?(a |an )?(\w+ ){0,3}(story|essay|script|poem|dialogue|narrative|screenplay|song|rap)\b",
    ),
    (
        "fictional",
        J,
        0.4,
        r"\b(fictional|imaginary|fiction)\b|\bcharacter (description|data|sheet)\b",
    ),
    (
        "has-no-filter",
        J,
        0.75,
        r"\b(does not|doesn't|do not|don't|never) have (a |any )?(\w+\s+){0,2}(content filter|filters|restrictions|limitations|morals|ethics|ethical guidelines|moral guidelines)\b|\bnot (restrained|constrained|limited|restricted) by\b",
    ),
    (
        "adult-content",
        J,
        0.6,
        r"\b(nsfw|horny|lewd|erotic|porn\w*)\b",
    ),
    (
        "harmful-topic",
        J,
        0.45,
        r"\b(malware|ransomware|keylogger|rob a bank|make a bomb|bombs|explosives|cocaine|methamphetamine|napalm|synthesi[sz]e)\b",
    ),
    (
        "pretend",
        J,
        0.4,
        r"\b(pretend|imagine) (to be|you are|you're|that you|you have)\b",
    ),
    (
        "act-as-ai",
        J,
        0.5,
        r"\b(act|behave|respond|answer|reply|roleplay) (as|like) (an? |the )?(\w+ ){0,3}(ai|chatbot|bot|assistant|model|character|persona|entity)\b",
    ),
    (
        "act-as",
        J,
        0.3,
        r"\b(act as|act like|i want you to act|roleplay|role-play|role play)\b",
    ),
    (
        "stay-in-character",
        J,
        0.7,
        r"\bin character as\b|\b(stay|staying|remain) in character|\bbreak(ing)? character\b|\bout of character\b",
    ),
    (
        "never-refuse",
        J,
        0.6,
        r"\b(never|not|won't|doesn't|will not|does not|cannot|can't|must not|mustn't) (ever )?(refuse|decline|deny)\b|\bwill always (answer|respond|comply)\b",
    ),
    (
        "answer-anything",
        J,
        0.55,
        r"\b(answer|respond to|do) (anything|everything|any question|any request)\b|\bno matter (how|what)\b",
    ),
    (
        "dual-response-format",
        J,
        0.7,
        r"\b(two|2) (different |separate )*(ways|responses|answers)\b|\[(gpt|chatgpt|classic|jailbreak|normal|developer mode output|🔓\w*)\]",
    ),
    (
        "illegal-content",
        J,
        0.45,
        r"\b(illegal|unethical|immoral|harmful|offensive|explicit|nsfw|dangerous)\b.{0,60}\b(content|requests?|things|activities|questions?|information)\b",
    ),
    (
        "hypothetical-world",
        J,
        0.45,
        r"\bhypothetical (scenario|world|language model|ai|chatbot)|\bin a (fictional|hypothetical) (world|universe|setting)",
    ),
    (
        "opposite-of-ai",
        J,
        0.7,
        r"\b(opposite|evil (twin|version)) of (chatgpt|you|the ai|an ai)\b|\bantigpt\b|\bbetterdan\b",
    ),
    (
        "disable-safety",
        J,
        0.85,
        r"\b(skip|disable|turn off|bypass|switch off|lift|remove)\s+([\w']+\s+){0,3}(safety|content|security)\s+(checks?|rules|filters?|guidelines|protocols|restrictions)|\b(safety|content|security)\s+(checks?|rules|filters?|guidelines|protocols|policy)\s+(disabled|(were|are|do) not (meant|apply)|(don't|doesn't) apply)|\bexempt from (the )?(usual )?(restrictions|rules|policy)",
    ),
    (
        "unrestricted-de-fr-es-it",
        J,
        0.85,
        r"sin restricciones|senza restrizioni|sans restrictions|ohne (einschr(ä|ae|a)nkungen|regeln|filter)|uneingeschr(ä|ae|a)nkt|modo desarrollador|modalit(à|a) sviluppatore|mode d[ée]veloppeur|entwicklermodus|sin filtro|senza filtri|non valgono|no aplican|ne s'appliquent pas|nicht gelten",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_rules_compile() {
        assert_eq!(RULES.len(), SPECS.len());
    }
}
