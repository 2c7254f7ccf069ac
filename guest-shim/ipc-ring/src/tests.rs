extern crate std;

use std::vec;
use std::vec::Vec;

use super::layout::{self, consumer as c, producer as p};
use super::*;

fn region(bytes: usize) -> (Vec<u64>, Shared) {
    let mut memory = vec![0u64; bytes / 8];
    // SAFETY: the vector is 8-aligned, `bytes` long and outlives the test's use of `shared`
    // (returned together, the vector kept alive by the caller).
    let shared = unsafe { Shared::new(memory.as_mut_ptr().cast(), bytes) };
    (memory, shared)
}

#[test]
fn a_record_goes_through_with_its_bytes_and_length() {
    let (_memory, shared) = region(4096);
    let mut producer = Producer::init(shared, 1).unwrap();
    assert_eq!(producer.capacity(), 2048);
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    assert_eq!(consumer.peek(), Ok(None));
    producer.try_push(b"hello, ring").unwrap();
    let record = consumer.peek().unwrap().unwrap();
    let mut out = [0u8; 32];
    assert_eq!(consumer.copy_to(&record, &mut out), 11);
    assert_eq!(&out[..11], b"hello, ring");
    consumer.release(record);
    assert_eq!(consumer.peek(), Ok(None));
}

#[test]
fn a_consumer_waits_for_the_magic() {
    let (_memory, shared) = region(4096);
    assert!(Consumer::attach(shared).unwrap().is_none());
}

#[test]
fn a_full_ring_is_reported_never_overwritten() {
    let (_memory, shared) = region(layout::HEADER_SIZE + 256);
    let mut producer = Producer::init(shared, 1).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    let mut pushed = 0u8;
    loop {
        match producer.try_push(&[pushed; 24]) {
            Ok(_) => pushed += 1,
            Err(PushError::Full) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(pushed, 8, "256 bytes hold eight 32-byte records");
    // Every record is still there, in order.
    for expected in 0..pushed {
        let record = consumer.peek().unwrap().unwrap();
        let mut out = [0u8; 24];
        consumer.copy_to(&record, &mut out);
        assert_eq!(out, [expected; 24]);
        consumer.release(record);
    }
    assert_eq!(
        producer.try_push(&[0; 200]),
        Err(PushError::TooLarge),
        "more than half the data area"
    );
}

#[test]
fn records_never_wrap_padding_fills_the_end() {
    let (_memory, shared) = region(layout::HEADER_SIZE + 256);
    let mut producer = Producer::init(shared, 1).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    for round in 0..100u32 {
        let len = 1 + (round as usize * 37) % 120;
        let byte = round as u8;
        producer.try_push(&vec![byte; len]).unwrap();
        let record = consumer.peek().unwrap().unwrap();
        assert_eq!(record.len(), len);
        let mut out = vec![0u8; len];
        consumer.copy_to(&record, &mut out);
        assert!(out.iter().all(|&b| b == byte), "round {round}");
        consumer.release(record);
    }
}

#[test]
fn waiting_flags_ask_for_doorbells() {
    let (_memory, shared) = region(4096);
    let mut producer = Producer::init(shared, 1).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    assert!(!consumer.prepare_wait(), "nothing there: wait");
    assert_eq!(
        producer.try_push(b"x"),
        Ok(Wake::Ring),
        "the consumer waits"
    );
    consumer.done_waiting();
    assert_eq!(producer.try_push(b"y"), Ok(Wake::Quiet));
    assert!(consumer.prepare_wait(), "records there: do not wait");
    let r = consumer.peek().unwrap().unwrap();
    consumer.release(r);
    assert!(producer.prepare_wait(8), "space there");
    let r = consumer.peek().unwrap().unwrap();
    assert_eq!(consumer.release(r), Wake::Quiet);
}

fn corrupt_after(setup: impl Fn(&Shared)) -> Corrupt {
    let (_memory, shared) = region(layout::HEADER_SIZE + 256);
    let mut producer = Producer::init(shared, 1).unwrap();
    producer.try_push(&[1; 16]).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    setup(&shared);
    let why = consumer.peek().unwrap_err();
    // Dead for good.
    assert_eq!(consumer.peek(), Err(why));
    why
}

#[test]
fn a_hostile_header_is_reported_and_the_ring_is_dead() {
    use core::sync::atomic::Ordering::Relaxed;
    assert_eq!(
        corrupt_after(|s| s.u64_at(p::TAIL).store(1 << 40, Relaxed)),
        Corrupt::TailAhead
    );
    assert_eq!(
        corrupt_after(|s| s.u64_at(p::TAIL).store(12, Relaxed)),
        Corrupt::TailAhead,
        "misaligned"
    );
    assert_eq!(
        corrupt_after(|s| s.write_word(layout::HEADER_SIZE, 0xffff_ffff | (1 << 32))),
        Corrupt::Record
    );
    assert_eq!(
        corrupt_after(|s| s.write_word(layout::HEADER_SIZE, 9 << 32)),
        Corrupt::Record
    );
}

#[test]
fn the_consumer_keeps_its_own_head_and_capacity() {
    use core::sync::atomic::Ordering::Relaxed;
    let (_memory, shared) = region(layout::HEADER_SIZE + 256);
    let mut producer = Producer::init(shared, 1).unwrap();
    producer.try_push(&[7; 16]).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    shared.u64_at(c::HEAD).store(64, Relaxed);
    shared.u32_at(p::CAPACITY).store(1 << 29, Relaxed);
    let record = consumer.peek().unwrap().unwrap();
    assert_eq!(record.len(), 16);
    consumer.release(record);
    // The tail moving backwards is seen.
    shared.u64_at(p::TAIL).store(0, Relaxed);
    assert_eq!(consumer.peek(), Err(Corrupt::TailBehind));
    shared.u64_at(c::HEAD).store(64, Relaxed);
    // The producer sees an impossible head and reports it instead of overwriting.
    assert!(matches!(
        producer.try_push(&[0; 8]),
        Err(PushError::Corrupt(Corrupt::HeadPastTail))
    ));
}

#[test]
fn attach_refuses_a_wrong_version_or_capacity() {
    use core::sync::atomic::Ordering::Relaxed;
    let (_memory, shared) = region(4096);
    Producer::init(shared, 1).unwrap();
    shared.u32_at(p::VERSION).store(2 | (128 << 16), Relaxed);
    assert_eq!(Consumer::attach(shared).err(), Some(Corrupt::Version));
    Producer::init(shared, 2).unwrap();
    shared.u32_at(p::CAPACITY).store(8192, Relaxed);
    assert_eq!(Consumer::attach(shared).err(), Some(Corrupt::Capacity));
    shared.u32_at(p::CAPACITY).store(1000, Relaxed);
    assert_eq!(Consumer::attach(shared).err(), Some(Corrupt::Capacity));
}

#[test]
fn two_threads_stream_a_checksummed_megabyte() {
    let (_memory, shared) = region(layout::HEADER_SIZE + 8192);
    let mut producer = Producer::init(shared, 1).unwrap();
    let mut consumer = Consumer::attach(shared).unwrap().unwrap();
    const WORDS: u64 = 1 << 17;
    let writer = std::thread::spawn(move || {
        let mut next = 0u64;
        let mut sum = 0u64;
        while next < WORDS {
            let words = (WORDS - next).min(200) as usize;
            match producer.try_push_with(words * 8, |i| next + i as u64) {
                Ok(_) => {
                    sum = (0..words as u64).fold(sum, |s, i| s.wrapping_add(next + i));
                    next += words as u64;
                }
                Err(PushError::Full) => std::thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        sum
    });
    let mut expected = 0u64;
    let mut sum = 0u64;
    while expected < WORDS {
        match consumer.peek().unwrap() {
            Some(record) => {
                consumer.read_words(&record, |_, word| {
                    assert_eq!(word, expected);
                    expected += 1;
                    sum = sum.wrapping_add(word);
                });
                consumer.release(record);
            }
            None => std::thread::yield_now(),
        }
    }
    assert_eq!(writer.join().unwrap(), sum);
}
