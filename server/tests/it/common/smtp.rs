//! A real SMTP server for the notification tests: `scripts/smtp-sink.py` (aiosmtpd from
//! PyPI, in the venv `scripts/test-python.sh` makes; `make test` passes its python as
//! `SHIPGATE_TEST_PYTHON`) on loopback, writing each message it accepts to a folder.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

/// One e-mail as received.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

impl Mail {
    /// The links in the plain-text part.
    pub fn links(&self) -> Vec<String> {
        self.text
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_string())
            .collect()
    }
}

pub fn test_python() -> String {
    std::env::var("SHIPGATE_TEST_PYTHON").expect(
        "SHIPGATE_TEST_PYTHON is not set: run the tests through `make test` \
         (scripts/with-s3.sh provides a python with aiosmtpd and icalendar)",
    )
}

impl SmtpSink {
    /// Starts a sink on a free port (or `port`); the first `fail_first` messages are
    /// refused with a temporary error.
    pub fn start(port: Option<u16>, fail_first: u32) -> SmtpSink {
        let dir = super::scratch_dir("smtp");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smtp-sink.py");
        let mut child = Command::new(test_python())
            .arg(script)
            .arg("--maildir")
            .arg(&dir)
            .arg("--port")
            .arg(port.unwrap_or(0).to_string())
            .arg("--fail-first")
            .arg(fail_first.to_string())
            .stdout(Stdio::piped())
            // Its log stays beside the mails, out of the test output.
            .stderr(std::fs::File::create(dir.join("sink.log")).unwrap())
            .spawn()
            .expect("the SMTP sink starts");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).expect("the SMTP sink says its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(dir.join("sink.log")).unwrap_or_default();
                panic!("the SMTP sink said {line:?}: {log}")
            });
        SmtpSink { child, port, dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
                let raw = v["data"].as_str().unwrap_or_default().to_string();
                let m = mail_parser::MessageParser::default()
                    .parse(raw.as_bytes())
                    .expect("a parsable e-mail");
                Mail {
                    to: v["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_string())
                        .collect(),
                    subject: m.subject().unwrap_or_default().to_string(),
                    text: m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
                    html: m.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
                    message_id: m.message_id().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// The mails to `to`.
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }

    /// Waits until a mail to `to` whose subject contains `subject` arrived.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Mail {
        let start = Instant::now();
        loop {
            if let Some(m) = self
                .mails_to(to)
                .into_iter()
                .find(|m| m.subject.contains(subject))
            {
                return m;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no mail to {to} about {subject:?}; got {:#?}",
                self.mails()
                    .iter()
                    .map(|m| (&m.to, &m.subject))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `n` mails in all arrived.
    pub async fn wait_for_count(&self, n: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "{} of {n} mails arrived",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
