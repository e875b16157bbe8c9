//! The fixed wording of answers in English, French (Canada) and Spanish.
//!
//! Everything a draft says that does not come from a passage or a record
//! is here, once per language, so an answer is in one language from the
//! salutation to the sign-off. Facts keep their values (dates, amounts,
//! numbers) exactly as the records hold them.

use crate::language::Language;

/// The name drafts sign with.
pub const SIGN_OFF: &str = "BrewVi Support";

/// "Hi Sarah," or "Hi," when the name is not known.
pub fn salutation(language: Language, name: Option<&str>) -> String {
    match (language, name) {
        (Language::En, Some(n)) => format!("Hi {n},"),
        (Language::En, None) => "Hi,".into(),
        (Language::Fr, Some(n)) => format!("Bonjour {n},"),
        (Language::Fr, None) => "Bonjour,".into(),
        (Language::Es, Some(n)) => format!("Hola, {n}:"),
        (Language::Es, None) => "Hola:".into(),
    }
}

/// The answer to a bare greeting: a greeting and an offer to help.
pub fn greeting_reply(language: Language) -> &'static str {
    match language {
        Language::En => {
            "Thanks for getting in touch with BrewVi! How can I help you today? I can help with your orders, shipping, returns, our brewers and pods, or your rewards points."
        }
        Language::Fr => {
            "Merci de communiquer avec BrewVi! Comment puis-je vous aider aujourd'hui? Je peux vous aider avec vos commandes, la livraison, les retours, nos cafetières et capsules ou vos points de récompense."
        }
        Language::Es => {
            "¡Gracias por contactar con BrewVi! ¿En qué puedo ayudarle hoy? Puedo ayudarle con sus pedidos, envíos, devoluciones, nuestras cafeteras y cápsulas o sus puntos de recompensa."
        }
    }
}

/// The answer to thanks: a polite close.
pub fn thanks_reply(language: Language) -> &'static str {
    match language {
        Language::En => {
            "You're very welcome! If there's anything else I can do for you, just reply here. Have a great day."
        }
        Language::Fr => {
            "Avec plaisir! Si je peux faire autre chose pour vous, répondez simplement ici. Bonne journée!"
        }
        Language::Es => {
            "¡De nada! Si puedo ayudarle en algo más, responda aquí. Que tenga un buen día."
        }
    }
}

/// No passage or record answers the question: say so and offer a human.
pub fn no_information(language: Language) -> &'static str {
    match language {
        Language::En => {
            "I'm sorry, I don't have information about that in our help articles. Would you like me to pass your question to a member of our support team? You can also tell me a little more about what you need."
        }
        Language::Fr => {
            "Désolé, je n'ai pas d'information à ce sujet dans nos articles d'aide. Voulez-vous que je transmette votre question à un membre de notre équipe? Vous pouvez aussi m'en dire un peu plus sur ce dont vous avez besoin."
        }
        Language::Es => {
            "Lo siento, no tengo información sobre eso en nuestros artículos de ayuda. ¿Quiere que pase su pregunta a un miembro de nuestro equipo? También puede contarme un poco más sobre lo que necesita."
        }
    }
}

/// Said before a passage shown in English to a customer who wrote in
/// another language.
pub fn english_only(language: Language) -> Option<&'static str> {
    match language {
        Language::En => None,
        Language::Fr => Some("Je n'ai cette information qu'en anglais :"),
        Language::Es => Some("Solo tengo esta información en inglés:"),
    }
}

/// The question for a conservative draft that has nothing left to say.
pub fn more_detail(language: Language) -> &'static str {
    match language {
        Language::En => "Could you tell me a little more about what you need?",
        Language::Fr => "Pourriez-vous m'en dire un peu plus sur ce dont vous avez besoin?",
        Language::Es => "¿Podría contarme un poco más sobre lo que necesita?",
    }
}

/// The question for a missing order number.
pub fn ask_order_number(language: Language) -> &'static str {
    match language {
        Language::En => {
            "Could you send me your order number? It is in your order confirmation email and in your account dashboard."
        }
        Language::Fr => {
            "Pourriez-vous m'envoyer votre numéro de commande? Il figure dans le courriel de confirmation de commande et dans votre tableau de bord."
        }
        Language::Es => {
            "¿Podría enviarme su número de pedido? Aparece en el correo de confirmación del pedido y en el panel de su cuenta."
        }
    }
}

/// The refusal of a blocked message; `privacy` when it asked about
/// someone else's data.
pub fn refusal(language: Language, privacy: bool) -> String {
    let (sorry, scope) = match (language, privacy) {
        (Language::En, true) => (
            "Sorry, I can't help with that request.",
            "For privacy reasons I can only discuss the orders and account of the person writing.",
        ),
        (Language::En, false) => (
            "Sorry, I can't help with that request.",
            "I'm happy to help with questions about your orders, our products, shipping, returns or your rewards account.",
        ),
        (Language::Fr, true) => (
            "Désolé, je ne peux pas donner suite à cette demande.",
            "Pour des raisons de confidentialité, je ne peux parler que des commandes et du compte de la personne qui écrit.",
        ),
        (Language::Fr, false) => (
            "Désolé, je ne peux pas donner suite à cette demande.",
            "Je peux vous aider avec vos commandes, nos produits, la livraison, les retours ou votre compte de récompenses.",
        ),
        (Language::Es, true) => (
            "Lo siento, no puedo ayudar con esa solicitud.",
            "Por motivos de privacidad solo puedo hablar de los pedidos y la cuenta de la persona que escribe.",
        ),
        (Language::Es, false) => (
            "Lo siento, no puedo ayudar con esa solicitud.",
            "Con gusto le ayudo con sus pedidos, nuestros productos, envíos, devoluciones o su cuenta de recompensas.",
        ),
    };
    format!("{sorry} {scope}")
}

/// The hand-off notice: a human replies `soon` (as a priority) or within
/// 24 hours; `safety` adds the emergency advice.
pub fn handoff(language: Language, soon: bool, safety: bool) -> String {
    let mut text = match (language, soon) {
        (Language::En, true) => "Thank you for your patience. I've passed your conversation to a member of our support team, who will reply here as a priority.",
        (Language::En, false) => "Thank you for your patience. I've passed your conversation to a member of our support team, who will reply here within 24 hours.",
        (Language::Fr, true) => "Merci de votre patience. J'ai transmis votre conversation à un membre de notre équipe, qui vous répondra ici en priorité.",
        (Language::Fr, false) => "Merci de votre patience. J'ai transmis votre conversation à un membre de notre équipe, qui vous répondra ici dans les 24 heures.",
        (Language::Es, true) => "Gracias por su paciencia. He pasado su conversación a un miembro de nuestro equipo, que le responderá aquí con prioridad.",
        (Language::Es, false) => "Gracias por su paciencia. He pasado su conversación a un miembro de nuestro equipo, que le responderá aquí en un plazo de 24 horas.",
    }
    .to_owned();
    if safety {
        text.push(' ');
        text.push_str(match language {
            Language::En => {
                "If anyone is hurt or in danger, please contact your local emergency services now."
            }
            Language::Fr => {
                "Si quelqu'un est blessé ou en danger, communiquez dès maintenant avec les services d'urgence de votre région."
            }
            Language::Es => {
                "Si alguien está herido o en peligro, contacte ahora con los servicios de emergencia de su zona."
            }
        });
    }
    text
}

/// A full message: salutation, paragraphs, sign-off.
pub fn letter(language: Language, name: Option<&str>, paragraphs: &[&str]) -> String {
    format!(
        "{}\n\n{}\n\n{SIGN_OFF}",
        salutation(language, name),
        paragraphs.join("\n\n")
    )
}
