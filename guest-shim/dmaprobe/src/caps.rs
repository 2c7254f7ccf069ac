//! The virtio PCI capabilities of a function's configuration space (virtio 1.2, 4.1.4): where
//! the common configuration and the notification area are, as (BAR, offset, length).
//!
//! Pure: the walk takes the bytes `/sys/bus/pci/devices/*/config` returned, bounds every offset
//! by them and stops after 48 capabilities (a looped list cannot hold it).

/// A structure's place: BAR index, offset into it, length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// The BAR (0..=5).
    pub bar: u8,
    /// Offset into the BAR.
    pub offset: u32,
    /// Length in bytes.
    pub length: u32,
}

/// What the driver needs: the common configuration and the notification area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioCaps {
    /// VIRTIO_PCI_CAP_COMMON_CFG (cfg_type 1).
    pub common: Region,
    /// VIRTIO_PCI_CAP_NOTIFY_CFG (cfg_type 2).
    pub notify: Region,
    /// The notification area's `notify_off_multiplier`.
    pub notify_multiplier: u32,
}

const STATUS: usize = 0x06;
const STATUS_CAP_LIST: u8 = 1 << 4;
const CAP_POINTER: usize = 0x34;
const CAP_VENDOR: u8 = 0x09;
const COMMON_CFG: u8 = 1;
const NOTIFY_CFG: u8 = 2;
/// At most this many capabilities are walked (256 bytes of space, 4 bytes each at the least,
/// less the 64-byte header).
const MAX_CAPS: usize = 48;

fn u32_at(config: &[u8], at: usize) -> Option<u32> {
    let bytes = config.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn region(config: &[u8], cap: usize) -> Option<Region> {
    let bar = *config.get(cap + 4)?;
    (bar <= 5).then_some(())?;
    Some(Region {
        bar,
        offset: u32_at(config, cap + 8)?,
        length: u32_at(config, cap + 12)?,
    })
}

/// Finds the virtio capabilities in `config`, or says what is missing.
pub fn parse(config: &[u8]) -> Result<VirtioCaps, &'static str> {
    let status = *config.get(STATUS).ok_or("configuration space too short")?;
    if status & STATUS_CAP_LIST == 0 {
        return Err("no capability list");
    }
    let mut next = usize::from(*config.get(CAP_POINTER).ok_or("no capability pointer")? & !3);
    let (mut common, mut notify) = (None, None);
    for _ in 0..MAX_CAPS {
        if next == 0 {
            break;
        }
        let id = *config.get(next).ok_or("capability outside the space")?;
        let following = usize::from(*config.get(next + 1).ok_or("capability cut short")? & !3);
        if id == CAP_VENDOR {
            match config.get(next + 3) {
                Some(&COMMON_CFG) if common.is_none() => common = region(config, next),
                Some(&NOTIFY_CFG) if notify.is_none() => {
                    notify = region(config, next).zip(u32_at(config, next + 16));
                }
                _ => {}
            }
        }
        next = following;
    }
    let common = common.ok_or("no common configuration capability")?;
    let (notify, notify_multiplier) = notify.ok_or("no notification capability")?;
    Ok(VirtioCaps {
        common,
        notify,
        notify_multiplier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> Vec<u8> {
        let mut config = vec![0u8; 256];
        config[STATUS] = STATUS_CAP_LIST;
        config[CAP_POINTER] = 0x40;
        // 0x40: MSI-X (id 0x11) -> 0x50: common cfg in BAR 4 at 0 -> 0x60: notify in BAR 4.
        config[0x40] = 0x11;
        config[0x41] = 0x50;
        config[0x50..0x54].copy_from_slice(&[CAP_VENDOR, 0x60, 16, COMMON_CFG]);
        config[0x54] = 4;
        config[0x5c..0x60].copy_from_slice(&0x1000u32.to_le_bytes());
        config[0x60..0x64].copy_from_slice(&[CAP_VENDOR, 0x00, 20, NOTIFY_CFG]);
        config[0x64] = 4;
        config[0x68..0x6c].copy_from_slice(&0x3000u32.to_le_bytes());
        config[0x6c..0x70].copy_from_slice(&0x1000u32.to_le_bytes());
        config[0x70..0x74].copy_from_slice(&4u32.to_le_bytes());
        config
    }

    #[test]
    fn finds_common_and_notify() {
        let caps = parse(&space()).unwrap();
        assert_eq!(
            caps.common,
            Region {
                bar: 4,
                offset: 0,
                length: 0x1000
            }
        );
        assert_eq!(caps.notify.offset, 0x3000);
        assert_eq!(caps.notify_multiplier, 4);
    }

    #[test]
    fn a_looped_list_ends() {
        let mut config = space();
        config[0x61] = 0x50; // notify -> common -> notify -> ...
        assert!(parse(&config).is_ok());
        config[0x51] = 0x50; // common -> itself, notify never reached
        assert_eq!(parse(&config), Err("no notification capability"));
    }

    #[test]
    fn pointers_outside_the_space_are_errors() {
        let mut config = space();
        config.truncate(0x58);
        assert!(parse(&config).is_err());
        let mut config = space();
        config[0x54] = 7; // BAR 7 does not exist
        assert_eq!(parse(&config), Err("no common configuration capability"));
    }
}
