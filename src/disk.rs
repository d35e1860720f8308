//! Durable file writes: what is acknowledged is on disk and whole.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with `content` so that a crash at any point leaves either
/// the old or the new file whole.
pub fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, content, 0o666)
}

/// As [`write_atomically`], readable by the owner only: for files that hold
/// secrets (the users' passwords of the auth store).
pub fn write_atomically_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, content, 0o600)
}

fn write_with_mode(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    {
        // The mode (less the umask) applies to a new file only; a stale
        // temporary file left by a crash keeps its own, hence the set below.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        if mode != 0o666 {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.write_all(content)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    // The rename itself is durable only once the directory is synced.
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write_atomically_private(&path, b"{}").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(fs::read(&path).unwrap(), b"{}");
    }
}
