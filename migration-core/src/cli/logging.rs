//! The command line's log: progress and warnings as plain lines on stderr,
//! each one line whatever names it carries ([`crate::model::escape`]).

pub(super) fn init_logging(verbose: bool) {
    let filter = if verbose {
        "migration_core=info,sqlx::query=info"
    } else {
        "migration_core=info"
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(Lines)
        .try_init();
}

/// Progress as plain lines on stderr; a warning starts with `warning: `,
/// as the CLI's own warnings do.
struct Lines;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Lines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if *event.metadata().level() == tracing::Level::WARN {
            writer.write_str("warning: ")?;
        }
        // One line per event, whatever names it carries.
        let mut line = String::new();
        ctx.field_format().format_fields(
            tracing_subscriber::fmt::format::Writer::new(&mut line),
            event,
        )?;
        writeln!(writer, "{}", crate::model::escape::escape(&line))
    }
}
