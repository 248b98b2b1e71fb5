//! The one timer a call or stream loop keeps for its deadline.

use std::pin::Pin;
use std::time::Duration;

use crate::net::now_ms;

/// The deadline timer of a call or stream loop: one [`tokio::time::Sleep`],
/// made when a deadline first needs waiting for and moved only when the
/// deadline changes. A fresh timer per loop turn would register with the
/// runtime's timer wheel on every message.
#[derive(Default)]
pub(crate) struct DeadlineTimer {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The deadline (epoch ms) `sleep` is set to.
    armed: Option<u64>,
}

impl DeadlineTimer {
    /// Sets the timer to `deadline` (epoch ms); `None` leaves it as it is
    /// (the caller does not wait on it then).
    pub(crate) fn arm(&mut self, deadline: Option<u64>) {
        let Some(at_ms) = deadline else { return };
        if self.armed == Some(at_ms) {
            return;
        }
        self.armed = Some(at_ms);
        let at =
            tokio::time::Instant::now() + Duration::from_millis(at_ms.saturating_sub(now_ms()));
        match self.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().reset(at),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// After a wake-up: the next [`DeadlineTimer::arm`] sets the timer again
    /// even for the same deadline, in case the wake-up came before it by the
    /// wall clock the deadline is counted in.
    pub(crate) fn fired(&mut self) {
        self.armed = None;
    }

    /// Completes at the armed deadline; never if none was armed.
    pub(crate) async fn wait(&mut self) {
        match self.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().await,
            None => std::future::pending().await,
        }
    }
}
