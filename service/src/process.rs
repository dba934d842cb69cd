//! Resources of this process, from Linux's `/proc/self`: CPU time, resident memory, open file
//! descriptors. Elsewhere each is `None` and left out of `/metrics`.

/// Clock ticks per second of `/proc/<pid>/stat` times: `USER_HZ`, fixed at 100 in the Linux
/// ABI on every architecture MAXX runs on (the kernel converts its internal HZ to it).
const USER_HZ: f64 = 100.0;

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessResources {
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: Option<f64>,
    /// Resident set size, in bytes.
    pub resident_bytes: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
}

/// Reads the resources now.
pub fn read() -> ProcessResources {
    ProcessResources {
        cpu_seconds: std::fs::read_to_string("/proc/self/stat").ok().as_deref().and_then(cpu_seconds),
        resident_bytes: std::fs::read_to_string("/proc/self/status").ok().as_deref().and_then(resident_bytes),
        open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|dir| dir.count() as u64),
    }
}

/// User + system time from the text of `/proc/<pid>/stat` (fields 14 and 15; counted after
/// the command name, which may itself hold spaces and parentheses).
pub fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0: utime (14) is index 11, stime (15) 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    #[allow(clippy::cast_precision_loss)] // seconds of CPU for a report
    Some((utime + stime) as f64 / USER_HZ)
}

/// `VmRSS` from the text of `/proc/<pid>/status`, in bytes.
pub fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => value.checked_mul(1024),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_a_command_name_with_spaces() {
        let stat = "4242 (maxx (agent) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 8 0 100 1000 200";
        assert_eq!(cpu_seconds(stat), Some(3.25));
        assert_eq!(cpu_seconds("garbage"), None);
        assert_eq!(cpu_seconds("1 (x) S 1 2"), None);
    }

    #[test]
    fn resident_memory_is_read_in_bytes() {
        assert_eq!(resident_bytes("Name:\tmaxx\nVmRSS:\t  2048 kB\nThreads: 4\n"), Some(2_097_152));
        assert_eq!(resident_bytes("Name:\tmaxx\n"), None);
    }

    #[test]
    fn this_process_has_resources_on_linux() {
        if cfg!(target_os = "linux") {
            let now = read();
            assert!(now.cpu_seconds.is_some_and(|s| s >= 0.0));
            assert!(now.resident_bytes.is_some_and(|b| b > 0));
            assert!(now.open_fds.is_some_and(|n| n >= 3), "stdin, stdout, stderr at least");
        }
    }
}
