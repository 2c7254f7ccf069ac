//! The pure half of `cargo xtask check-boot`: which instructions of an AArch64 image are
//! reachable from its entry before the EL2 MMU is on, and which of them are exclusive or atomic
//! read-modify-writes.
//!
//! Why our own decoder and not a disassembler crate or `objdump`: the check needs six branch
//! forms, ADRP/ADR/ADD/LDR for addresses taken, and two instruction classes, all fixed bit
//! patterns of the Arm ARM (C4.1 "A64 instruction set encoding"); a full disassembler would add
//! a dependency (or a host tool) to match the same bits.
//!
//! Reachability follows every direct branch (B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ) and, for
//! indirect branches (BLR/BR through vtables and function pointers), every code address the
//! reachable code takes with ADR or ADRP+ADD/LDR, and every code address stored in the first
//! words of a data object it takes the address of (a vtable's methods). It stops at the
//! addresses it is told run with the MMU on.

use std::collections::{BTreeMap, BTreeSet};

/// An instruction class that must not run before the MMU and caches are on (on the BCM2711 an
/// exclusive to Device or non-cacheable memory never completes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forbidden {
    /// LDXR, LDAXR, LDXRB/H, LDAXRB/H.
    LoadExclusive,
    /// STXR, STLXR, STXRB/H, STLXRB/H.
    StoreExclusive,
    /// LDXP, LDAXP, STXP, STLXP.
    ExclusivePair,
    /// CAS, CASA, CASL, CASAL (and byte/halfword forms).
    CompareAndSwap,
    /// CASP and its forms.
    CompareAndSwapPair,
    /// SWP and its forms.
    Swap,
    /// LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN (and STADD etc., their
    /// aliases with Rt = XZR).
    AtomicOperation,
}

impl Forbidden {
    /// The mnemonics the class covers.
    pub fn mnemonics(self) -> &'static str {
        match self {
            Forbidden::LoadExclusive => "LDXR/LDAXR",
            Forbidden::StoreExclusive => "STXR/STLXR",
            Forbidden::ExclusivePair => "LDXP/STXP",
            Forbidden::CompareAndSwap => "CAS",
            Forbidden::CompareAndSwapPair => "CASP",
            Forbidden::Swap => "SWP",
            Forbidden::AtomicOperation => "LDADD/LDCLR/LDEOR/LDSET/LD[SU]MAX/LD[SU]MIN",
        }
    }
}

/// The forbidden class of `insn`, if it is in one (Arm ARM C4.1.66 "Load/store exclusive
/// register" and "Compare and swap", C4.1.94 "Atomic memory operations").
pub fn forbidden(insn: u32) -> Option<Forbidden> {
    // Load/store exclusive and ordered, and compare-and-swap: bits [29:24] = 0b001000.
    if insn & 0x3f00_0000 == 0x0800_0000 {
        let o2 = insn >> 23 & 1;
        let load = insn >> 22 & 1;
        let o1 = insn >> 21 & 1;
        let size_high = insn >> 31 & 1;
        return match (o2, o1) {
            // LDAR/STLR/LDLAR/STLLR: ordered, but plain single-copy accesses; allowed.
            (1, 0) => None,
            (1, 1) => Some(Forbidden::CompareAndSwap),
            (0, 1) if size_high == 0 => Some(Forbidden::CompareAndSwapPair),
            (0, 1) => Some(Forbidden::ExclusivePair),
            _ if load == 1 => Some(Forbidden::LoadExclusive),
            _ => Some(Forbidden::StoreExclusive),
        };
    }
    // Atomic memory operations: bits [29:24] = 0b111000 (V = 0), bit 21 = 1, bits [11:10] = 0.
    if insn & 0x3f20_0c00 == 0x3820_0000 {
        let o3 = insn >> 15 & 1;
        let opc = insn >> 12 & 0b111;
        return match (o3, opc) {
            (0, _) => Some(Forbidden::AtomicOperation),
            (1, 0b000) => Some(Forbidden::Swap),
            // LDAPR (RCpc load-acquire): a plain load.
            (1, 0b100) => None,
            _ => Some(Forbidden::AtomicOperation),
        };
    }
    None
}

fn sign_extend(value: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

/// What one instruction does to control flow, as far as the scan cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Falls through.
    Next,
    /// Falls through and may branch to the address (conditional branch, BL).
    Also(u64),
    /// Goes to the address only (B).
    Jump(u64),
    /// Does not fall through and goes nowhere the scan can see (RET, BR, ERET, UDF).
    End,
}

fn flow(pc: u64, insn: u32) -> Flow {
    let at = |offset: i64| pc.wrapping_add_signed(offset);
    match insn {
        // B imm26
        i if i & 0xfc00_0000 == 0x1400_0000 => {
            Flow::Jump(at(sign_extend(u64::from(i & 0x03ff_ffff), 26) * 4))
        }
        // BL imm26
        i if i & 0xfc00_0000 == 0x9400_0000 => {
            Flow::Also(at(sign_extend(u64::from(i & 0x03ff_ffff), 26) * 4))
        }
        // B.cond imm19
        i if i & 0xff00_0010 == 0x5400_0000 => {
            Flow::Also(at(sign_extend(u64::from(i >> 5 & 0x7ffff), 19) * 4))
        }
        // CBZ/CBNZ imm19
        i if i & 0x7e00_0000 == 0x3400_0000 => {
            Flow::Also(at(sign_extend(u64::from(i >> 5 & 0x7ffff), 19) * 4))
        }
        // TBZ/TBNZ imm14
        i if i & 0x7e00_0000 == 0x3600_0000 => {
            Flow::Also(at(sign_extend(u64::from(i >> 5 & 0x3fff), 14) * 4))
        }
        // BLR: the call returns here.
        i if i & 0xffff_fc1f == 0xd63f_0000 => Flow::Next,
        // BR, RET, ERET.
        i if i & 0xffff_fc1f == 0xd61f_0000 || i & 0xffff_fc1f == 0xd65f_0000 => Flow::End,
        0xd69f_03e0 => Flow::End,
        // UDF #0 (padding): nothing executes past it.
        i if i & 0xffff_0000 == 0 => Flow::End,
        _ => Flow::Next,
    }
}

/// The image the scan reads: code and data by address, and the function symbols for names.
pub struct Image<'a> {
    /// Executable sections: (address, bytes).
    pub code: Vec<(u64, &'a [u8])>,
    /// Data sections whose words may hold code addresses (vtables): (address, bytes).
    pub data: Vec<(u64, &'a [u8])>,
    /// Function and label symbols: address -> name.
    pub symbols: BTreeMap<u64, String>,
}

impl Image<'_> {
    fn word(&self, address: u64) -> Option<u32> {
        self.code.iter().find_map(|&(base, bytes)| {
            let offset = usize::try_from(address.checked_sub(base)?).ok()?;
            let b = bytes.get(offset..offset + 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        })
    }

    fn is_code(&self, address: u64) -> bool {
        address.is_multiple_of(4) && self.word(address).is_some()
    }

    fn data_u64(&self, address: u64) -> Option<u64> {
        self.data.iter().find_map(|&(base, bytes)| {
            let offset = usize::try_from(address.checked_sub(base)?).ok()?;
            let b = bytes.get(offset..offset + 8)?;
            Some(u64::from_le_bytes(b.try_into().ok()?))
        })
    }

    /// The name of the symbol `address` lies in.
    pub fn function_of(&self, address: u64) -> String {
        match self.symbols.range(..=address).next_back() {
            Some((_, name)) => name.clone(),
            None => format!("{address:#x}"),
        }
    }

    /// The symbol `address` lies in, with the offset into it.
    pub fn name_of(&self, address: u64) -> String {
        match self.symbols.range(..=address).next_back() {
            Some((&start, name)) => format!("{name}+{:#x}", address - start),
            None => format!("{address:#x}"),
        }
    }
}

/// One forbidden instruction found reachable before the MMU is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Its address.
    pub address: u64,
    /// Its encoding.
    pub insn: u32,
    /// Its class.
    pub class: Forbidden,
    /// The chain of block starts from the entry to the block holding it.
    pub path: Vec<u64>,
}

/// What the scan saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Instructions reachable before the MMU is on.
    pub instructions: usize,
    /// Forbidden instructions among them.
    pub findings: Vec<Finding>,
    /// Stop addresses the scan reached (and did not enter).
    pub stops_reached: BTreeSet<u64>,
}

/// How many words of a data object are looked at for code addresses (a vtable's drop, size,
/// align and methods).
const VTABLE_WORDS: u64 = 24;

/// Scans everything reachable from `entry` without entering `stops`.
pub fn scan(image: &Image<'_>, entry: u64, stops: &BTreeSet<u64>) -> Report {
    let mut report = Report::default();
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    // Block start -> the block start it was reached from.
    let mut parent: BTreeMap<u64, u64> = BTreeMap::new();
    let mut work = vec![entry];
    let mut queued: BTreeSet<u64> = BTreeSet::from([entry]);
    let mut scanned_data: BTreeSet<u64> = BTreeSet::new();
    while let Some(start) = work.pop() {
        let mut pc = start;
        let mut pages = [None::<u64>; 32];
        let mut targets: Vec<u64> = Vec::new();
        loop {
            if stops.contains(&pc) {
                report.stops_reached.insert(pc);
                break;
            }
            if !seen.insert(pc) {
                break;
            }
            let Some(insn) = image.word(pc) else { break };
            report.instructions += 1;
            if let Some(class) = forbidden(insn) {
                let mut path = vec![start];
                while let Some(&up) = parent.get(path.last().unwrap_or(&entry)) {
                    if path.contains(&up) {
                        break;
                    }
                    path.push(up);
                }
                path.reverse();
                report.findings.push(Finding {
                    address: pc,
                    insn,
                    class,
                    path,
                });
            }
            // Addresses taken: ADRP keeps a page per register; ADR, ADD and LDR complete one.
            let rd = (insn & 0x1f) as usize;
            let rn = (insn >> 5 & 0x1f) as usize;
            let mut taken = None;
            if insn & 0x9f00_0000 == 0x9000_0000 {
                let imm = u64::from(insn >> 5 & 0x7ffff) << 2 | u64::from(insn >> 29 & 3);
                pages[rd] = Some((pc & !0xfff).wrapping_add_signed(sign_extend(imm, 21) << 12));
            } else if insn & 0x9f00_0000 == 0x1000_0000 {
                let imm = u64::from(insn >> 5 & 0x7ffff) << 2 | u64::from(insn >> 29 & 3);
                taken = Some(pc.wrapping_add_signed(sign_extend(imm, 21)));
                pages[rd] = None;
            } else if insn & 0xff80_0000 == 0x9100_0000 {
                let shift = if insn >> 22 & 1 == 1 { 12 } else { 0 };
                let imm = u64::from(insn >> 10 & 0xfff) << shift;
                taken = pages[rn].map(|page| page + imm);
                pages[rd] = None;
            } else if insn & 0xffc0_0000 == 0xf940_0000 {
                let imm = u64::from(insn >> 10 & 0xfff) * 8;
                if let Some(address) = pages[rn].map(|page| page + imm) {
                    taken = image.data_u64(address);
                    if taken.is_none_or(|a| !image.is_code(a)) {
                        taken = Some(address);
                    }
                }
                pages[rd] = None;
            } else {
                // Any other write to Rd ends what the scan knows about it; approximated as
                // "any instruction naming a register in bits [4:0]" (false hits only lose
                // precision).
                pages[rd] = None;
            }
            if let Some(address) = taken {
                if image.is_code(address) {
                    targets.push(address);
                } else if scanned_data.insert(address) {
                    for word in 0..VTABLE_WORDS {
                        match image.data_u64(address + word * 8) {
                            Some(value) if image.is_code(value) => targets.push(value),
                            Some(value) if value < 0x1_0000 => {}
                            _ => break,
                        }
                    }
                }
            }
            match flow(pc, insn) {
                Flow::Next => pc += 4,
                Flow::Also(target) => {
                    targets.push(target);
                    pc += 4;
                }
                Flow::Jump(target) => {
                    targets.push(target);
                    break;
                }
                Flow::End => break,
            }
        }
        for target in targets {
            if queued.insert(target) {
                parent.insert(target, start);
                work.push(target);
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    // Encodings by the Arm ARM (C6), the exclusives the same as rustc emits for `spin`.
    const LDAXR_W8_X0: u32 = 0x885f_fc08;
    const STXR_W9_W8_X0: u32 = 0x8809_7c08;
    const LDAR_X1_X0: u32 = 0xc8df_fc01;
    const STLR_W1_X0: u32 = 0x889f_fc01;
    const CASAL_W1_W2_X0: u32 = 0x88e1_fc02;
    const LDADDAL_X1_X2_X0: u32 = 0xf8e1_0002;
    const SWPAL_W1_W2_X0: u32 = 0xb8e1_8002;
    const LDSET_W1_W2_X0: u32 = 0xb821_3002;
    const LDXP_X1_X2_X0: u32 = 0xc87f_0801;
    const LDR_X1_X0: u32 = 0xf940_0001;
    const STR_X1_X0_REG: u32 = 0xf820_6801;
    const RET: u32 = 0xd65f_03c0;
    const NOP: u32 = 0xd503_201f;

    #[test]
    fn exclusives_and_atomics_are_forbidden_and_ordered_accesses_are_not() {
        assert_eq!(forbidden(LDAXR_W8_X0), Some(Forbidden::LoadExclusive));
        assert_eq!(forbidden(STXR_W9_W8_X0), Some(Forbidden::StoreExclusive));
        assert_eq!(forbidden(CASAL_W1_W2_X0), Some(Forbidden::CompareAndSwap));
        assert_eq!(
            forbidden(LDADDAL_X1_X2_X0),
            Some(Forbidden::AtomicOperation)
        );
        assert_eq!(forbidden(SWPAL_W1_W2_X0), Some(Forbidden::Swap));
        assert_eq!(forbidden(LDSET_W1_W2_X0), Some(Forbidden::AtomicOperation));
        assert_eq!(forbidden(LDXP_X1_X2_X0), Some(Forbidden::ExclusivePair));
        for allowed in [LDAR_X1_X0, STLR_W1_X0, LDR_X1_X0, STR_X1_X0_REG, RET, NOP] {
            assert_eq!(forbidden(allowed), None, "{allowed:#010x}");
        }
    }

    fn words(code: &[u32]) -> Vec<u8> {
        code.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn bl(from: u64, to: u64) -> u32 {
        0x9400_0000 | ((to.wrapping_sub(from) as u32 >> 2) & 0x03ff_ffff)
    }

    #[test]
    fn a_call_chain_reaches_an_exclusive_and_names_the_path() {
        // 0x1000: bl 0x1010; ret | 0x1010: ldaxr; ret | 0x1018: stxr (unreachable); ret
        let code = words(&[
            bl(0x1000, 0x1010),
            RET,
            NOP,
            NOP,
            LDAXR_W8_X0,
            RET,
            STXR_W9_W8_X0,
            RET,
        ]);
        let image = Image {
            code: vec![(0x1000, &code)],
            data: vec![],
            symbols: BTreeMap::from([(0x1000, "entry".into()), (0x1010, "lock".into())]),
        };
        let report = scan(&image, 0x1000, &BTreeSet::new());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].address, 0x1010);
        assert_eq!(report.findings[0].path, [0x1000, 0x1010]);
        assert_eq!(image.name_of(0x1014), "lock+0x4");
    }

    #[test]
    fn the_scan_does_not_enter_a_stop_address() {
        let code = words(&[bl(0x1000, 0x1008), RET, LDAXR_W8_X0, RET]);
        let image = Image {
            code: vec![(0x1000, &code)],
            data: vec![],
            symbols: BTreeMap::new(),
        };
        let report = scan(&image, 0x1000, &BTreeSet::from([0x1008]));
        assert!(report.findings.is_empty());
        assert!(report.stops_reached.contains(&0x1008));
    }

    #[test]
    fn a_vtable_whose_address_is_taken_makes_its_methods_reachable() {
        // 0x1000: adrp x0, 0x2000; add x0, x0, #0x10; ret | 0x1010: method: swpal; ret
        // data 0x2010: [drop = 0, size = 8, align = 8, method = 0x1010]
        let adrp_x0_page_plus_1 = 0x9000_0000 | (1 << 29);
        let add_x0_x0_0x10 = 0x9100_0000 | (0x10 << 10);
        let code = words(&[
            adrp_x0_page_plus_1,
            add_x0_x0_0x10,
            RET,
            NOP,
            SWPAL_W1_W2_X0,
            RET,
        ]);
        let data: Vec<u8> = [0u64, 8, 8, 0x1010, u64::MAX]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let image = Image {
            code: vec![(0x1000, &code)],
            data: vec![(0x2010, &data[..])],
            symbols: BTreeMap::new(),
        };
        let report = scan(&image, 0x1000, &BTreeSet::new());
        assert_eq!(report.findings.len(), 1, "{report:?}");
        assert_eq!(report.findings[0].class, Forbidden::Swap);
    }
}
