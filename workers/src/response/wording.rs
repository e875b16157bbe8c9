//! Sentences that state record facts, in English, French and Spanish.
//!
//! Each takes the values exactly as the record holds them (order numbers,
//! ISO dates, carriers, amounts) and only frames them in words.

use super::facts::{LoyaltyView, OrderView};
use crate::language::Language;

/// The order's status in one sentence.
pub fn status(l: Language, o: &OrderView<'_>) -> String {
    let n = o.number;
    let on = |d: Option<&str>| match (l, d) {
        (_, None) => String::new(),
        (Language::En, Some(d)) => format!(" on {d}"),
        (Language::Fr, Some(d)) => format!(" le {d}"),
        (Language::Es, Some(d)) => format!(" el {d}"),
    };
    let with = match (l, o.carrier) {
        (_, None) => String::new(),
        (Language::En, Some(c)) => format!(" with {c}"),
        (Language::Fr, Some(c)) => format!(" par {c}"),
        (Language::Es, Some(c)) => format!(" con {c}"),
    };
    let eta = match (l, o.expected_delivery) {
        (_, None) => String::new(),
        (Language::En, Some(d)) => format!(" Expected delivery: {d}."),
        (Language::Fr, Some(d)) => format!(" Livraison prévue : {d}."),
        (Language::Es, Some(d)) => format!(" Entrega prevista: {d}."),
    };
    match (l, o.status) {
        (Language::En, "pending") => format!(
            "Order #{n} was placed{} and has not shipped yet.",
            on(o.ordered_at)
        ),
        (Language::Fr, "pending") => format!(
            "La commande n° {n} a été passée{} et n'a pas encore été expédiée.",
            on(o.ordered_at)
        ),
        (Language::Es, "pending") => format!(
            "El pedido n.º {n} se realizó{} y todavía no se ha enviado.",
            on(o.ordered_at)
        ),
        (Language::En, "shipped") => format!("Order #{n} shipped{}{with}.{eta}", on(o.shipped_at)),
        (Language::Fr, "shipped") => format!(
            "La commande n° {n} a été expédiée{}{with}.{eta}",
            on(o.shipped_at)
        ),
        (Language::Es, "shipped") => {
            format!("El pedido n.º {n} se envió{}{with}.{eta}", on(o.shipped_at))
        }
        (Language::En, "delivered") => {
            format!("Order #{n} was delivered{}{with}.", on(o.delivered_at))
        }
        (Language::Fr, "delivered") => format!(
            "La commande n° {n} a été livrée{}{with}.",
            on(o.delivered_at)
        ),
        (Language::Es, "delivered") => {
            format!("El pedido n.º {n} se entregó{}{with}.", on(o.delivered_at))
        }
        (Language::En, "returned") => format!("Order #{n} was returned to us."),
        (Language::Fr, "returned") => format!("La commande n° {n} nous a été retournée."),
        (Language::Es, "returned") => format!("El pedido n.º {n} nos fue devuelto."),
        (Language::En, "cancelled") => format!("Order #{n} was cancelled."),
        (Language::Fr, "cancelled") => format!("La commande n° {n} a été annulée."),
        (Language::Es, "cancelled") => format!("El pedido n.º {n} fue cancelado."),
        (Language::En, other) => format!("The status of order #{n} is: {other}."),
        (Language::Fr, other) => format!("Statut de la commande n° {n} : {other}."),
        (Language::Es, other) => format!("Estado del pedido n.º {n}: {other}."),
    }
}

/// The tracking number (and carrier) of a shipped order.
pub fn tracking(l: Language, tracking: &str, carrier: Option<&str>) -> String {
    let by = carrier.map(|c| format!(" ({c})")).unwrap_or_default();
    match l {
        Language::En => format!("Tracking number: {tracking}{by}."),
        Language::Fr => format!("Numéro de suivi : {tracking}{by}."),
        Language::Es => format!("Número de seguimiento: {tracking}{by}."),
    }
}

/// A shipped order without a tracking number.
pub fn no_tracking_number(l: Language) -> &'static str {
    match l {
        Language::En => "I don't have a tracking number for this order.",
        Language::Fr => "Je n'ai pas de numéro de suivi pour cette commande.",
        Language::Es => "No tengo un número de seguimiento para este pedido.",
    }
}

/// An order that has not shipped has no tracking yet.
pub fn not_tracked_yet(l: Language) -> &'static str {
    match l {
        Language::En => "It has no tracking number yet: tracking starts when the order ships.",
        Language::Fr => {
            "Elle n'a pas encore de numéro de suivi : le suivi commence à l'expédition de la commande."
        }
        Language::Es => {
            "Todavía no tiene número de seguimiento: el seguimiento empieza cuando se envía el pedido."
        }
    }
}

/// The refund recorded on an order.
pub fn refund(l: Language, amount: f64, date: &str) -> String {
    match l {
        Language::En => format!(
            "A refund of ${amount:.2} was issued on {date} to your original payment method."
        ),
        Language::Fr => format!(
            "Un remboursement de {amount:.2} $ a été émis le {date} sur votre moyen de paiement d'origine."
        ),
        Language::Es => format!(
            "Se emitió un reembolso de ${amount:.2} el {date} a su método de pago original."
        ),
    }
}

/// No refund on the order yet.
pub fn no_refund(l: Language) -> &'static str {
    match l {
        Language::En => "I don't see a refund issued on this order yet.",
        Language::Fr => "Je ne vois pas encore de remboursement émis pour cette commande.",
        Language::Es => "Todavía no veo un reembolso emitido para este pedido.",
    }
}

/// No order of the customer's has the number they gave (`number` is
/// `None` when it must not be echoed).
pub fn order_not_found(l: Language, number: Option<&str>) -> String {
    match (l, number) {
        (Language::En, Some(n)) => format!(
            "I couldn't find an order #{n} on your account. Could you check the number, or tell me the email address you used at checkout?"
        ),
        (Language::En, None) => "I couldn't find an order with that number on your account. Could you check the number, or tell me the email address you used at checkout?".into(),
        (Language::Fr, Some(n)) => format!(
            "Je n'ai pas trouvé de commande n° {n} dans votre compte. Pourriez-vous vérifier le numéro, ou m'indiquer l'adresse courriel utilisée lors de l'achat?"
        ),
        (Language::Fr, None) => "Je n'ai pas trouvé de commande avec ce numéro dans votre compte. Pourriez-vous vérifier le numéro, ou m'indiquer l'adresse courriel utilisée lors de l'achat?".into(),
        (Language::Es, Some(n)) => format!(
            "No encontré un pedido n.º {n} en su cuenta. ¿Podría comprobar el número o indicarme el correo electrónico que usó al comprar?"
        ),
        (Language::Es, None) => "No encontré un pedido con ese número en su cuenta. ¿Podría comprobar el número o indicarme el correo electrónico que usó al comprar?".into(),
    }
}

/// The customer's points, tier and what is about to change.
pub fn loyalty(l: Language, a: &LoyaltyView<'_>) -> String {
    let mut text = match l {
        Language::En => format!(
            "You have {} BrewVi Rewards points ({} tier).",
            a.points, a.tier
        ),
        Language::Fr => format!(
            "Vous avez {} points BrewVi Rewards (niveau {}).",
            a.points, a.tier
        ),
        Language::Es => format!(
            "Tiene {} puntos BrewVi Rewards (nivel {}).",
            a.points, a.tier
        ),
    };
    if let (Some(next), Some(missing)) = (a.next_tier, a.points_to_next_tier) {
        text.push_str(&match l {
            Language::En => format!(" {missing} more points reach {next}."),
            Language::Fr => format!(" Encore {missing} points pour atteindre le niveau {next}."),
            Language::Es => format!(" Le faltan {missing} puntos para llegar a {next}."),
        });
    }
    if let Some(n) = a.expiring_30_days.filter(|n| *n > 0) {
        text.push_str(&match l {
            Language::En => format!(" {n} points expire in the next 30 days."),
            Language::Fr => format!(" {n} points expirent dans les 30 prochains jours."),
            Language::Es => format!(" {n} puntos caducan en los próximos 30 días."),
        });
    }
    text
}

/// No rewards account is linked to the conversation.
pub fn no_loyalty_account(l: Language) -> &'static str {
    match l {
        Language::En => {
            "I couldn't find a BrewVi Rewards account linked to this conversation. Could you tell me the email address of your account?"
        }
        Language::Fr => {
            "Je n'ai pas trouvé de compte BrewVi Rewards lié à cette conversation. Pourriez-vous m'indiquer l'adresse courriel de votre compte?"
        }
        Language::Es => {
            "No encontré una cuenta BrewVi Rewards vinculada a esta conversación. ¿Podría indicarme el correo electrónico de su cuenta?"
        }
    }
}
