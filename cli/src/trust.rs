//! `aster trust keygen` and `aster trust sign`: the offline root key and the
//! credentials it signs (trust-registry.md §1.1–§1.4).
//!
//! Verbs, flags, defaults and file formats are the reference CLI's
//! (`aster_cli/trust.py`, aster-cli 0.1.2), so keys, credentials and scripts
//! move between the two tools unchanged; the bytes of every file come from
//! `aster_proto::trust`, which is checked against the reference's vectors.
//! Deliberate differences, all of them refusals of input the reference would
//! turn into a credential no server accepts, or fixes:
//!
//! * a one-time (`ott`) credential always gets a fresh random 32-byte nonce
//!   (so does the reference's `trust sign`; its `enroll node` forgets it, T6);
//! * `--endpoint-id` must be an EndpointId (64 hex characters, written in
//!   lowercase as credentials bind to it); the reference signs any string;
//! * `--attributes` values must be strings (credential attributes are a
//!   string map; the reference would sign a number into its canonical JSON);
//! * an ISO 8601 expiry without a UTC offset means UTC (the reference's
//!   `trust sign` reads it in the machine's local time zone, its `enroll node`
//!   in UTC); `30d` / `24h` are accepted too, as `enroll node` accepts them;
//! * `root.pub` goes next to the key file with the key file's extension
//!   replaced (the reference cuts the path at its last `.`, so a key path
//!   without an extension under a dotted directory, like `~/.aster/root`,
//!   puts it in the wrong place);
//! * (not a difference) an option given twice takes the last value, as with
//!   argparse, so command lines written for the reference run unchanged;
//! * the credential file is created with mode 0600: a policy credential that
//!   is not bound to an endpoint works for whoever holds it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aster::proto::trust::{
    Attributes, ConsumerCredential, ConsumerKind, Credential, EnrollmentCredential, RootKeyFile,
    RootSigningKey,
};

#[derive(clap::Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(clap::Subcommand)]
enum TrustCommand {
    /// Generates a new ed25519 root key pair: the key file (JSON, mode 0600,
    /// never overwritten) and, next to it, the public key file `<name>.pub`
    /// to hand to servers (`ASTER_ROOT_PUBKEY_FILE`).
    Keygen(KeygenArgs),
    /// Signs an enrollment credential offline with the root key.
    Sign(SignArgs),
}

#[derive(clap::Args)]
#[command(args_override_self = true)]
struct KeygenArgs {
    /// Output path for the key pair JSON.
    #[arg(long, value_name = "PATH", default_value = "~/.aster/root.key")]
    out_key: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CredentialType {
    /// Binds a producer node (requires --endpoint-id).
    Producer,
    /// A reusable consumer credential, optionally bound to --endpoint-id.
    Policy,
    /// A one-time consumer credential: a fresh random nonce that a server admits once.
    Ott,
}

#[derive(clap::Args)]
#[command(args_override_self = true)]
struct SignArgs {
    /// Root key JSON (`aster trust keygen`).
    #[arg(long, value_name = "PATH")]
    root_key: String,
    /// EndpointId (64 hex) to bind the credential to; required for producer.
    #[arg(long, value_name = "HEX")]
    endpoint_id: Option<String>,
    /// Attributes as a JSON object of strings, e.g. '{"aster.role":"ops.status,ops.logs"}'.
    #[arg(long, value_name = "JSON")]
    attributes: Option<String>,
    /// Expiry, ISO 8601 (e.g. 2026-01-01T00:00:00Z; no offset = UTC), or
    /// relative (30d, 24h). Default: 30 days from now.
    #[arg(long, value_name = "ISO8601")]
    expires: Option<String>,
    /// Credential type.
    #[arg(long = "type", value_enum, default_value = "producer")]
    kind: CredentialType,
    /// Output path for the signed credential JSON.
    #[arg(long, value_name = "PATH", default_value = ".aster/credential.json")]
    out: String,
}

/// Runs `aster trust …`; errors are printed here and exit with 1, as the
/// reference's do.
pub fn run(args: TrustArgs) -> anyhow::Result<u8> {
    let result = match args.command {
        TrustCommand::Keygen(a) => keygen(a),
        TrustCommand::Sign(a) => sign(a),
    };
    Ok(report(result))
}

/// Prints an error the reference's way (`Error: …` on stderr) and maps the
/// outcome to an exit code.
pub(crate) fn report(result: anyhow::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    }
}

fn keygen(args: KeygenArgs) -> anyhow::Result<()> {
    let key_path = expand_home(&args.out_key);
    if key_path.exists() {
        bail!(
            "key file already exists: {}\nUse a different path or remove the existing file.",
            key_path.display()
        );
    }
    let root = RootSigningKey::from_seed(&random_32()?);
    let public = root.public_key();
    create_dirs_for(&key_path)?;
    write_new_file(
        &key_path,
        RootKeyFile::new(root).to_file_text().as_bytes(),
        0o600,
    )?;

    let pub_path = key_path.with_extension("pub");
    if pub_path.exists() {
        println!("Root key pair written to: {}", key_path.display());
        println!("  (public key file already exists: {})", pub_path.display());
    } else {
        // Public: readable by others, as the reference leaves it.
        write_new_file(&pub_path, public.to_pub_file().as_bytes(), 0o644)?;
        println!("Root private key written to: {}", key_path.display());
        println!("Root public key written to:  {}", pub_path.display());
    }
    println!("  Public key:  {public}");
    println!("Keep root.key secret. Share root.pub with nodes that need to verify credentials.");
    Ok(())
}

fn sign(args: SignArgs) -> anyhow::Result<()> {
    let root = load_root_key(&args.root_key)?;
    let attributes = match &args.attributes {
        None => Attributes::new(),
        Some(text) => serde_json::from_str::<Attributes>(text).map_err(|e| {
            anyhow::anyhow!("invalid --attributes JSON (expected an object of strings): {e}")
        })?,
    };
    let expires_at = match &args.expires {
        None => now_secs() + DEFAULT_VALIDITY_SECS,
        Some(text) => parse_expiry(text).context("invalid --expires")?,
    };
    let endpoint_id = args
        .endpoint_id
        .as_deref()
        .map(parse_endpoint_id)
        .transpose()?;
    let credential: Credential = match args.kind {
        CredentialType::Producer => {
            let Some(endpoint_id) = endpoint_id else {
                bail!("--endpoint-id is required for producer credentials");
            };
            EnrollmentCredential::new(endpoint_id, root.public_key(), expires_at, attributes)
                .signed(&root)
                .into()
        }
        CredentialType::Policy | CredentialType::Ott => {
            let kind = if args.kind == CredentialType::Ott {
                ConsumerKind::Ott
            } else {
                ConsumerKind::Policy
            };
            let mut credential =
                ConsumerCredential::new(kind, root.public_key(), expires_at, attributes);
            if let Some(endpoint_id) = endpoint_id {
                credential = credential.with_endpoint_id(endpoint_id);
            }
            if kind == ConsumerKind::Ott {
                credential = credential.with_nonce(random_32()?);
            }
            credential.signed(&root).into()
        }
    };
    let out = expand_home(&args.out);
    create_dirs_for(&out)?;
    write_file_replacing(&out, credential.to_file_json().as_bytes(), 0o600)?;
    println!("Signed credential written to: {}", out.display());
    println!("  Type:       {}", credential.type_name());
    println!("  Expires at: {}", format_utc(expires_at));
    Ok(())
}

// -- Helpers shared with `enroll` ---------------------------------------------

/// The reference tools' default validity: 30 days.
pub(crate) const DEFAULT_VALIDITY_SECS: u64 = 30 * 86_400;

/// The latest expiry that has an ISO 8601 form (9999-12-31T23:59:59Z).
const MAX_EXPIRY: i64 = 253_402_300_799;

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `~/…` → `$HOME/…` (Python's `os.path.expanduser`, for the common case).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if path == "~" => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

/// Reads a root key file (`{"private_key", "public_key"}`).
pub(crate) fn load_root_key(path: &str) -> anyhow::Result<RootSigningKey> {
    let path = expand_home(path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("key file not found: {}", path.display())
        }
        Err(e) => bail!("cannot read key file {}: {e}", path.display()),
    };
    let file = RootKeyFile::parse(&text)
        .map_err(|e| anyhow::anyhow!("invalid key file {}: {e}", path.display()))?;
    Ok(file.signing_key)
}

/// 32 bytes from the operating system's CSPRNG (key seeds, OTT nonces).
pub(crate) fn random_32() -> anyhow::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    Ok(bytes)
}

/// An EndpointId as credentials carry it: 64 hex characters, lowercase.
pub(crate) fn parse_endpoint_id(text: &str) -> anyhow::Result<String> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--endpoint-id must be an EndpointId of 64 hex characters (got {text:?})");
    }
    Ok(text.to_ascii_lowercase())
}

pub(crate) fn create_dirs_for(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

fn open_options(mode: u32) -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options
}

/// Creates `path` with `mode` and writes `data`; fails if it exists (even
/// when created between our check and this call).
pub(crate) fn write_new_file(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = open_options(mode)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let written = file.write_all(data).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Replaces `path` atomically: writes a temporary file next to it with
/// `mode` from the start (never briefly readable by others), syncs it and
/// renames it over `path`.
pub(crate) fn write_file_replacing(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_new_file(&tmp, data, mode)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// An expiry: relative (`30d`, `24h`, a signed whole number of days or
/// hours, as the reference's `enroll node` reads them) or an ISO 8601 date
/// and time (a missing offset means UTC).
pub(crate) fn parse_expiry(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let relative = |count: &str, unit: i64| -> anyhow::Result<i64> {
        let n: i64 = count
            .trim()
            .parse()
            .with_context(|| format!("cannot parse expiry {text:?}"))?;
        n.checked_mul(unit)
            .and_then(|d| d.checked_add(now_secs() as i64))
            .with_context(|| format!("expiry {text:?} is out of range"))
    };
    let at = if let Some(count) = text.strip_suffix('d') {
        relative(count, 86_400)?
    } else if let Some(count) = text.strip_suffix('h') {
        relative(count, 3_600)?
    } else {
        parse_iso8601(text).with_context(|| {
            format!("cannot parse expiry {text:?}; use '30d', '24h', or ISO 8601")
        })?
    };
    if !(0..=MAX_EXPIRY).contains(&at) {
        bail!("expiry {text:?} is out of range (1970 to 9999)");
    }
    Ok(at as u64)
}

/// `YYYY-MM-DD[(T| )HH[:MM[:SS[.fraction]]]][Z|±HH[:MM[:SS]]|±HHMM]` to epoch
/// seconds (the extended forms Python's `datetime.fromisoformat` reads; a
/// fraction is truncated as the reference's `int(dt.timestamp())` does).
fn parse_iso8601(text: &str) -> Option<i64> {
    fn num(s: &str, len: usize) -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
    let (date, rest) = text.split_at_checked(10)?;
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    if d.next().is_some()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    if rest.is_empty() {
        return Some(seconds);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let time = time
        .split_once(['.', ','])
        .map_or(time, |(whole, fraction)| {
            if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                "!"
            } else {
                whole
            }
        });
    let mut parts = time.split(':');
    let hour = num(parts.next()?, 2)?;
    let minute = parts.next().map_or(Some(0), |m| num(m, 2))?;
    let second = parts.next().map_or(Some(0), |s| num(s, 2))?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    seconds += hour * 3_600 + minute * 60 + second;
    if offset.is_empty() || offset.eq_ignore_ascii_case("z") {
        return Some(seconds);
    }
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits = &offset[1..];
    let (oh, om, os) = if let Some((h, rest)) = digits.split_once(':') {
        let mut more = rest.split(':');
        let m = num(more.next()?, 2)?;
        let s = more.next().map_or(Some(0), |s| num(s, 2))?;
        if more.next().is_some() {
            return None;
        }
        (num(h, 2)?, m, s)
    } else if digits.len() == 4 {
        (num(&digits[..2], 2)?, num(&digits[2..], 2)?, 0)
    } else {
        (num(digits, 2)?, 0, 0)
    };
    if oh > 23 || om > 59 || os > 59 {
        return None;
    }
    Some(seconds - sign * (oh * 3_600 + om * 60 + os))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Epoch seconds as Python's `datetime.fromtimestamp(t, tz=timezone.utc).isoformat()`.
pub(crate) fn format_utc(epoch_secs: u64) -> String {
    let secs = epoch_secs as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        t / 3_600,
        t / 60 % 60,
        t % 60
    )
}

/// The date part of [`format_utc`].
pub(crate) fn format_utc_date(epoch_secs: u64) -> String {
    format_utc(epoch_secs)[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_forms() {
        assert_eq!(parse_iso8601("1970-01-01"), Some(0));
        assert_eq!(parse_iso8601("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse_iso8601("2026-01-01 00:00:00"), Some(1_767_225_600));
        assert_eq!(
            parse_iso8601("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(
            parse_iso8601("2025-12-31T23:00:00-0100"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_iso8601("2025-12-31T23-01"), Some(1_767_225_600));
        assert_eq!(
            parse_iso8601("2026-01-01T00:00:00.999999Z"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_iso8601("2026-01-01T00"), Some(1_767_225_600));
        assert_eq!(parse_iso8601("2024-02-29T12:34:56Z"), Some(1_709_210_096));
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2023-02-29",
            "2026-01-01T24:00",
            "2026-01-01X",
            "2026-01-01T1:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00+1",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn utc_formatting_round_trips() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29T12:34:56+00:00");
        assert_eq!(format_utc(MAX_EXPIRY as u64), "9999-12-31T23:59:59+00:00");
        for t in [0u64, 59, 86_399, 951_782_400, 1_767_225_600, 4_102_444_800] {
            assert_eq!(parse_iso8601(&format_utc(t)), Some(t as i64));
        }
        assert_eq!(format_utc_date(1_767_225_600), "2026-01-01");
    }

    #[test]
    fn expiry_forms() {
        let now = now_secs();
        let d = parse_expiry("30d").unwrap();
        assert!((now + 30 * 86_400..=now + 30 * 86_400 + 5).contains(&d));
        let h = parse_expiry(" 24h ").unwrap();
        assert!((now + 86_400..=now + 86_400 + 5).contains(&h));
        assert!(parse_expiry("-1h").unwrap() < now);
        assert_eq!(parse_expiry("2026-01-01T00:00:00Z").unwrap(), 1_767_225_600);
        assert!(parse_expiry("1h30m").is_err());
        assert!(parse_expiry("1969-12-31T00:00:00Z").is_err());
        assert!(parse_expiry("99999999999999d").is_err());
    }

    #[test]
    fn endpoint_ids() {
        let id = "AB".repeat(32);
        assert_eq!(parse_endpoint_id(&id).unwrap(), "ab".repeat(32));
        assert!(parse_endpoint_id("abc").is_err());
        assert!(parse_endpoint_id(&"g".repeat(64)).is_err());
    }

    #[test]
    fn home_expansion() {
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                expand_home("~/.aster/root.key"),
                PathBuf::from(home).join(".aster/root.key")
            );
        }
        assert_eq!(expand_home("rel/x"), PathBuf::from("rel/x"));
    }
}
