//! E-mail over SMTP with lettre: one pooled async transport, a multipart (plain text and
//! HTML) message per notice, a stable `Message-ID` per outbox row.

use super::message::Message;
use crate::config::SmtpSettings;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The host part of Message-IDs.
    domain: String,
}

/// Why a send failed, and whether trying again can help.
pub struct SendError {
    pub error: String,
    pub permanent: bool,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings, base_url: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = settings
            .from
            .parse()
            .map_err(|e| format!("MAIL_FROM: {e}"))?;
        let domain = base_url
            .split("://")
            .nth(1)
            .unwrap_or("shipgate")
            .split([':', '/'])
            .next()
            .unwrap_or("shipgate")
            .to_string();
        Ok(Mailer {
            transport,
            from,
            domain,
        })
    }

    pub async fn send(&self, outbox_id: i64, to: &str, m: &Message) -> Result<(), SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError {
            error: format!("not an e-mail address: {e}"),
            permanent: true,
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<outbox-{outbox_id}@{}>", self.domain)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(m.text.clone()))
                    .singlepart(SinglePart::html(m.html.clone())),
            )
            .map_err(|e| SendError {
                error: format!("the message could not be built: {e}"),
                permanent: true,
            })?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                permanent: e.is_permanent(),
                error: format!("SMTP: {e}"),
            })
    }
}
