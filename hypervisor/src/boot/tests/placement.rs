//! Where partitions land and what each is given.

use std::format;
use std::vec::Vec;

use bulkhead_config::range::Range;

use super::*;

#[test]
fn the_bare_metal_configuration_boots_two_partitions_on_qemu_virt_gicv3() {
    let (machine, booted, started) = boot(VIRT_GICV3, bundle(BARE_METAL, GUEST_IMAGES));
    let booted = booted.expect("boots");
    assert!(started);
    assert_eq!(
        machine.steps,
        ["console", "mmu", "entropy", "gic", "fast-calls", "mpidrs"]
    );
    assert_eq!(
        machine.lines.first().map(std::string::String::as_str),
        Some("HIL:BOOT Bulkhead 0.1.0 el=2 board=qemu-virt cpus=4 ram=2048MiB gic=v3 psci=smc counter=1234")
    );
    let system = &booted.system;
    assert_eq!(system.partitions.len(), 2);
    assert!(system.gic_sysregs);
    assert!(system.firmware_psci);
    assert_eq!(system.gic.distributor, Range::new(0x0800_0000, 0x1_0000));
    assert_eq!(
        system.gic.redistributors,
        Some(Range::new(0x080a_0000, 0xf6_0000))
    );
    let ram = Range::new(0x4000_0000, 2 << 30);
    let hyp = hypervisor_reservation(fake::IMAGE_START, IMAGE_END, 0);
    let mut placed: Vec<Range> = Vec::new();
    for (index, partition) in system.partitions.iter().enumerate() {
        assert_eq!(partition.state(), PartitionState::Running);
        assert_eq!(partition.id, index + 1);
        let [memory] = partition.memory.as_slice() else {
            panic!("one region: {:?}", partition.memory)
        };
        let range = Range::new(memory.pa, memory.size);
        assert_eq!((memory.ipa, memory.size), (0x4000_0000, 16 * MIB));
        assert_eq!(memory.pa % (2 * MIB), 0, "2 MiB aligned like its IPA");
        assert!(ram.contains(&range));
        assert!(!range.overlaps(&hyp), "clear of the hypervisor");
        assert!(!range.overlaps(&Range::new(DTB_PA, VIRT_GICV3.len() as u64)));
        assert!(placed.iter().all(|other| !other.overlaps(&range)));
        placed.push(range);
        // Kernel at the start of its RAM, device tree 15 MiB in.
        let images: Vec<(u64, usize)> = partition
            .images
            .iter()
            .map(|i| (i.pa, i.data.len()))
            .collect();
        assert_eq!(
            images,
            [(memory.pa, KERNEL_SIZE), (memory.pa + 0xf0_0000, DTB_SIZE)]
        );
        assert_eq!(partition.images[0].data, &[b't'; KERNEL_SIZE][..]);
        assert_eq!(partition.dtb, 0x40f0_0000);
        assert!(partition.console.is_some());
        assert_eq!(partition.vttbr >> 48, partition.id as u64, "VMID = id");
        assert_eq!(
            machine.lines_with(&format!(
                "partition \"{}\" (id {})",
                partition.name, partition.id
            )),
            [format!(
                "partition \"{}\" (id {}): 16 MiB at PA {:#x}, 0 device(s), vCPUs on MPIDR [{}]",
                partition.name,
                partition.id,
                memory.pa,
                index + 1
            )]
        );
    }
    assert_eq!(system.slots[0], None, "the boot CPU runs no vCPU");
    assert_eq!(
        system.slots[1],
        Some(VcpuSlot {
            partition: 0,
            vcpu: 0
        })
    );
    assert_eq!(
        system.slots[2],
        Some(VcpuSlot {
            partition: 1,
            vcpu: 0
        })
    );
    assert_eq!(system.slots[3], None);
    assert_eq!(machine.loaded.len(), 2, "both partitions' images loaded");
    assert_eq!(
        machine.loaded[0].1,
        [
            (placed[0].start, KERNEL_SIZE),
            (placed[0].start + 0xf0_0000, DTB_SIZE)
        ]
    );
    let vgics: Vec<(usize, GicVersion, usize)> = machine
        .vgics
        .iter()
        .map(|(i, g)| (*i, g.version, g.vcpus))
        .collect();
    assert_eq!(vgics, [(0, GicVersion::V3, 1), (1, GicVersion::V3, 1)]);
    assert!(machine.routes.is_empty(), "no device, no hardware SPI");
}

#[test]
fn a_passthrough_device_is_mapped_and_its_spi_routed_to_the_partitions_cpu() {
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(PASSTHROUGH, GUEST_IMAGES));
    let booted = booted.unwrap();
    let beta = &booted.system.partitions[1];
    assert_eq!(beta.devices.len(), 1);
    assert_eq!(
        (beta.devices[0].ipa, beta.devices[0].pa),
        (0x0904_0000, 0x0904_0000)
    );
    assert_eq!(machine.routes, [(40, 2)], "INTID 40 to logical CPU 2");
    let (index, gic) = &machine.vgics[1];
    assert_eq!(*index, 1);
    assert!(gic.hardware.contains(40) && !gic.hardware.contains(41));
    assert_eq!(hardware_spis_of(gic), [40]);
    assert_eq!(
        machine.lines_with("(id 2):")[0].split(", ").nth(1),
        Some("1 device(s)")
    );
}

fn hardware_spis_of(gic: &VirtualGic) -> Vec<u32> {
    vgic::hardware_spis(gic).collect()
}

#[test]
fn doorbells_become_software_spis_and_channels_are_announced() {
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(DOORBELL, GUEST_IMAGES));
    let booted = booted.unwrap();
    assert_eq!(booted.system.partitions.len(), 3);
    let ping = &machine.vgics[0].1;
    assert!(ping.software.contains(48) && !ping.software.contains(49));
    assert!(
        ping.hardware.word(1) == 0,
        "doorbells are not hardware SPIs"
    );
    let bystander = &machine.vgics[2].1.software;
    assert!(
        bystander.word(1) & !(1 << (bulkhead_config::CONSOLE_INTID - 32)) == 0,
        "the bystander has no doorbell (INTIDs 32..64 besides its console's)"
    );
    assert_eq!(
        bystander.contains(bulkhead_config::CONSOLE_INTID),
        booted.system.partitions[2].console.is_some(),
        "a virtual console's interrupt is a software SPI"
    );
    assert_eq!(
        machine.lines_with("channel"),
        ["channel \"ping\": partition \"ping\" receives INTID 48, partition \"pong\" INTID 49"]
    );
}

#[test]
fn on_gicv2_each_partition_sees_the_virtual_cpu_interface_at_the_gicc_address() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV2), bundle(BARE_METAL, GUEST_IMAGES));
    machine.cpu.gic_sysregs = false;
    let mut tables = FakeTables::new(64);
    let booted = init(&mut machine, &mut tables, system_slot()).unwrap();
    assert!(machine.lines[0].contains(" gic=v2 "));
    assert!(!booted.system.gic_sysregs);
    assert_eq!(booted.system.gic.redistributors, None);

    for partition in &booted.system.partitions {
        let root = partition.vttbr & 0x0000_ffff_ffff_fffe;
        assert_eq!(
            tables.translate(root, 0x0801_0000),
            Some(0x0804_0000),
            "GICC -> GICV"
        );
        assert_eq!(tables.translate(root, 0x0801_1004), Some(0x0804_1004));
        assert_eq!(tables.translate(root, 0x0801_2000), None, "two pages only");
        let ram = partition.memory[0];
        assert_eq!(
            tables.translate(root, 0x4000_0000 + 0x1234),
            Some(ram.pa + 0x1234)
        );
        assert_eq!(
            tables.translate(root, 0x0900_0000),
            None,
            "the console is trapped"
        );
    }
    assert_eq!(machine.vgics[0].1.version, GicVersion::V2);
}

#[test]
fn fixed_physical_memory_is_kept_from_the_allocator() {
    let dts = qemu_config(&[
        (
            "fixed",
            "0x1",
            "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; phys = <0x0 0xbf000000>; };",
        ),
        ("floating", "0x2", RAM_16M),
    ]);
    let (_, booted, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    let booted = booted.unwrap();
    let fixed = booted.system.partitions[0].memory[0];
    let floating = booted.system.partitions[1].memory[0];
    assert_eq!(fixed.pa, 0xbf00_0000);
    assert!(!Range::new(fixed.pa, fixed.size).overlaps(&Range::new(floating.pa, floating.size)));
}

#[test]
fn smc_allow_lists_reach_the_firmware_allow_list() {
    let dts = qemu_config(&[(
        "caller",
        "0x1",
        &format!("smc-allow = <0x8200ff01>; {RAM_16M}"),
    )]);
    let (machine, _, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    assert_eq!(machine.allowed, [(1, std::vec![0x8200_ff01])]);
}

#[test]
fn a_gic_without_virtualization_frames_gives_no_interrupts() {
    let mut host = HostInfo::parse(VIRT_GICV2).unwrap();
    assert!(has_virtualization(host.gic));
    if let Some(crate::host_dt::Gic::V2 { hyp, .. }) = &mut host.gic {
        *hyp = None;
    }
    assert!(!has_virtualization(host.gic));
    assert!(!has_virtualization(None));
    let mut machine = FakeMachine::new(None, Vec::new());
    init_gic(&mut machine, &host);
    assert!(machine.steps.is_empty());
    assert_eq!(
        machine.lines,
        ["no GIC with virtualization support: partitions get no interrupts"]
    );
    host.gic = None;
    let bytes: &'static [u8] =
        std::boxed::Box::leak(bundle(BARE_METAL, GUEST_IMAGES).into_boxed_slice());
    let system = build_system(
        &mut machine,
        &mut FakeTables::new(64),
        &Machine {
            board: "qemu-virt",
            host: &host,
            hyp: Range::new(0x4000_0000, 2 * MIB),
            dtb: Range::new(DTB_PA, 0x1_0000),
            cpu: BootCpu {
                mpidr: 0,
                pa_range: 2,
                gic_sysregs: true,
            },
        },
        Some(bytes),
    );
    assert_eq!(system.partitions[0].state(), PartitionState::Running);
    assert!(machine.vgics.is_empty(), "no distributor without a GIC");
    assert_eq!(system.gic.distributor, Range::default());
}

/// A direct-mapped partition owning QEMU virt's last page of virtio-mmio transports, marked
/// `unprotected-dma` (issue 14), beside an ordinary one.
const DIRECT_MAPPED: &str = r#"/dts-v1/;
/ { compatible = "bulkhead,config"; board = "qemu-virt";
  partitions { #address-cells = <2>; #size-cells = <2>;
    disk { #address-cells = <2>; #size-cells = <2>; cpus = <0x1>; direct-map;
      memory@80000000 { reg = <0x0 0x80000000 0x0 0x01000000>; };
      kernel { file = "test-guest.bin"; load = <0x0 0x80000000>; };
      device@a003000 { reg = <0x0 0x0a003000 0x0 0x1000>; compatible = "virtio,mmio";
                       unprotected-dma; interrupts = <78 79>; };
    };
    other { #address-cells = <2>; #size-cells = <2>; cpus = <0x2>;
      memory@80000000 { reg = <0x0 0x80000000 0x0 0x01000000>; };
      kernel { file = "test-guest.bin"; load = <0x0 0x80000000>; };
    };
  };
};"#;

#[test]
fn a_direct_mapped_partition_sits_at_pa_equal_ipa_and_its_unprotected_dma_is_warned_about() {
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(DIRECT_MAPPED, GUEST_IMAGES));
    let system = &booted.expect("boots").system;
    let [disk, other] = system.partitions.as_slice() else {
        panic!("two partitions")
    };
    assert_eq!(disk.state(), PartitionState::Running);
    assert_eq!(
        (disk.memory[0].ipa, disk.memory[0].pa),
        (0x8000_0000, 0x8000_0000),
        "IPA = PA"
    );
    let direct = Range::new(0x8000_0000, 16 * MIB);
    let placed = Range::new(other.memory[0].pa, other.memory[0].size);
    assert!(
        !placed.overlaps(&direct),
        "the other partition is allocated clear of the direct-mapped memory"
    );
    assert_eq!(
        machine.lines_with("unprotected DMA"),
        [
            "warning: partition \"disk\" device device@a003000 (virtio,mmio) does unprotected DMA \
          (no SMMU, direct-mapped at PA = IPA): it can read and write all physical memory, the \
          hypervisor's and every other partition's"
        ]
    );
}
