//! Per-call `tracing` spans, made only when a subscriber could take them.

/// `tracing::span!`, or [`tracing::Span::none`] when no subscriber was ever
/// set.
///
/// A disabled span is not free in that case: a dependency of iroh turns on
/// tracing's `log` feature, and then every disabled span formats its fields
/// for the `log` crate. Per call that was a measurable share of the server's
/// CPU. Once a subscriber is set the macro is `span!` unchanged. What is
/// lost: with no subscriber, per-call spans no longer reach a `log` logger.
macro_rules! call_span {
    ($($args:tt)*) => {
        if tracing::dispatcher::has_been_set() {
            tracing::span!($($args)*)
        } else {
            tracing::Span::none()
        }
    };
}

pub(crate) use call_span;
