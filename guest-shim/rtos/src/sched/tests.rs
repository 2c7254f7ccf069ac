//! The scheduler's rules, each as a behaviour.

use super::*;
use crate::stats::MissKind;
use crate::task::{Priority, TaskConfig, TaskId};
use crate::time::{Duration, Instant};

fn p(level: u8) -> Priority {
    Priority::new(level).unwrap()
}

fn periodic(name: &'static str, level: u8, period: u64) -> TaskConfig {
    TaskConfig::periodic(name, p(level), Duration(period))
}

#[test]
fn two_tasks_cannot_share_a_priority_or_take_the_idle_level() {
    let mut s = Scheduler::new();
    s.add(periodic("a", 3, 100)).unwrap();
    assert_eq!(
        s.add(periodic("b", 3, 100)),
        Err(SpawnError::PriorityTaken {
            priority: p(3),
            by: "a"
        })
    );
    assert_eq!(s.add(periodic("c", 0, 100)), Err(SpawnError::IdlePriority));
    assert_eq!(s.add(periodic("d", 4, 0)), Err(SpawnError::ZeroPeriod));
    assert_eq!(
        s.add(periodic("e", 5, 100).with_deadline(Duration(200))),
        Err(SpawnError::BadDeadline)
    );
}

#[test]
fn simultaneous_releases_run_most_urgent_first() {
    let mut s = Scheduler::new();
    let slow = s.add(periodic("slow", 1, 100)).unwrap();
    let fast = s.add(periodic("fast", 5, 10)).unwrap();
    let mid = s.add(periodic("mid", 3, 50)).unwrap();
    s.start_periodic(Instant(1000), None);
    assert_eq!(s.next_alarm(), Some(Instant(1000)));
    s.on_alarm(Some(Instant(1000)), Instant(1001), Instant(1002));
    let mut order = Vec::new();
    while let Some(d) = s.start_next(Instant(1003)) {
        order.push(d.job.task);
        s.finish(d, Instant(1004));
    }
    assert_eq!(order, [fast, mid, slow]);
    assert_eq!(s.next_alarm(), Some(Instant(1010)), "fast's second release");
    assert_eq!(s.stats(fast).unwrap().latency.max, 3);
    assert!(s.is_quiet());
}

#[test]
fn a_job_is_preempted_only_by_more_urgent_tasks() {
    let mut s = Scheduler::new();
    let low = s
        .add(TaskConfig::event("low", p(2), Duration(100)))
        .unwrap();
    let high = s
        .add(TaskConfig::event("high", p(6), Duration(100)))
        .unwrap();
    let other = s
        .add(TaskConfig::event("other", p(1), Duration(100)))
        .unwrap();
    assert!(s.activate(low, Instant(0)));
    let outer = s.start_next(Instant(1)).unwrap();
    assert_eq!(outer.job.task, low);
    // While `low` runs it activates `high` (runs now, nested) and `other` (waits).
    s.activate(other, Instant(2));
    assert_eq!(s.start_next(Instant(2)), None, "a less urgent task waits");
    s.activate(high, Instant(3));
    let inner = s.start_next(Instant(3)).unwrap();
    assert_eq!(inner.job.task, high);
    assert_eq!(s.running(), p(6));
    s.finish(inner, Instant(4));
    assert_eq!(s.running(), p(2), "back to the preempted job's level");
    assert_eq!(s.start_next(Instant(4)), None);
    s.finish(outer, Instant(5));
    assert_eq!(s.start_next(Instant(5)).unwrap().job.task, other);
}

#[test]
fn a_late_finish_is_a_miss_with_its_time_breakdown() {
    let mut s = Scheduler::new();
    let t = s.add(periodic("t", 2, 100)).unwrap();
    s.start_periodic(Instant(0), None);
    s.on_alarm(Some(Instant(0)), Instant(30), Instant(31));
    let d = s.start_next(Instant(40)).unwrap();
    assert_eq!((d.job.release, d.job.deadline), (Instant(0), Instant(100)));
    s.finish(d, Instant(120));
    let stats = s.stats(t).unwrap();
    assert_eq!((stats.completed, stats.late, stats.misses), (1, 1, 1));
    let miss = s.misses().records()[0];
    assert_eq!(miss.kind, MissKind::Late);
    assert_eq!(miss.irq_delay, Some(Duration(30)));
    assert_eq!(miss.start_delay, Some(Duration(40)));
    assert_eq!(miss.response, Some(Duration(120)));
}

#[test]
fn a_release_while_the_previous_job_runs_is_dropped() {
    let mut s = Scheduler::new();
    let t = s.add(periodic("t", 2, 100)).unwrap();
    s.start_periodic(Instant(0), None);
    s.on_alarm(Some(Instant(0)), Instant(0), Instant(0));
    let d = s.start_next(Instant(1)).unwrap();
    // The job overruns into the next period.
    s.on_alarm(Some(Instant(100)), Instant(101), Instant(102));
    s.finish(d, Instant(150));
    let stats = s.stats(t).unwrap();
    assert_eq!((stats.releases, stats.completed), (2, 1));
    assert_eq!((stats.dropped, stats.late, stats.misses), (1, 1, 2));
    assert_eq!(
        s.start_next(Instant(151)),
        None,
        "the dropped job never runs"
    );
}

#[test]
fn releases_whose_deadline_passed_before_the_interrupt_are_skipped() {
    let mut s = Scheduler::new();
    let t = s.add(periodic("t", 2, 100)).unwrap();
    s.start_periodic(Instant(0), None);
    // The interrupt for the release at 0 is only taken at 350: releases 0, 100 and 200 are
    // over; 300 is released late but can still make its deadline (400).
    s.on_alarm(Some(Instant(0)), Instant(350), Instant(351));
    let stats = *s.stats(t).unwrap();
    assert_eq!((stats.releases, stats.skipped, stats.misses), (4, 3, 3));
    let d = s.start_next(Instant(352)).unwrap();
    assert_eq!(d.job.release, Instant(300));
    s.finish(d, Instant(360));
    assert_eq!(s.stats(t).unwrap().misses, 3);
    assert_eq!(s.next_alarm(), Some(Instant(400)));
    let skipped = s.misses().records()[0];
    assert_eq!(
        (skipped.kind, skipped.irq_delay),
        (MissKind::Skipped, Some(Duration(350)))
    );
}

#[test]
fn an_activation_during_the_job_runs_it_again_afterwards() {
    let mut s = Scheduler::new();
    let rx = s.add(TaskConfig::event("rx", p(3), Duration(50))).unwrap();
    s.activate(rx, Instant(0));
    s.activate(rx, Instant(1));
    assert_eq!(
        s.stats(rx).unwrap().merged,
        1,
        "merged into the pending job"
    );
    let first = s.start_next(Instant(2)).unwrap();
    s.activate(rx, Instant(5));
    s.finish(first, Instant(6));
    let again = s.start_next(Instant(7)).unwrap();
    assert_eq!(again.job.release, Instant(5));
    assert_eq!(again.job.number, 1);
    s.finish(again, Instant(8));
    assert!(s.is_quiet());
    assert!(!s.activate(TaskId(9), Instant(9)), "unknown task");
}

#[test]
fn stopping_ends_releases_and_reset_clears_statistics() {
    let mut s = Scheduler::new();
    let t = s
        .add(periodic("t", 2, 100).with_offset(Duration(7)))
        .unwrap();
    s.start_periodic(Instant(1000), None);
    assert_eq!(s.next_alarm(), Some(Instant(1007)));
    s.on_alarm(Some(Instant(1007)), Instant(1007), Instant(1007));
    s.stop_periodic();
    assert_eq!(s.next_alarm(), None);
    assert_eq!(s.timer_entry().n, 1);
    s.reset_stats();
    assert_eq!(s.stats(t).unwrap().releases, 0);
    assert_eq!(s.timer_entry().n, 0);
}

#[test]
fn a_main_loop_wakeup_is_an_alarm_until_it_passes() {
    let mut s = Scheduler::new();
    s.add(periodic("t", 2, 100)).unwrap();
    s.set_wakeup(Some(Instant(50)));
    assert_eq!(s.next_alarm(), Some(Instant(50)));
    s.start_periodic(Instant(10), None);
    assert_eq!(s.next_alarm(), Some(Instant(10)));
    s.on_alarm(Some(Instant(50)), Instant(50), Instant(51));
    assert_eq!(s.next_alarm(), Some(Instant(110)), "the wake-up is spent");
}

#[test]
fn no_release_is_made_at_or_after_the_horizon() {
    let mut s = Scheduler::new();
    let t = s.add(periodic("t", 2, 100)).unwrap();
    s.start_periodic(Instant(0), Some(Instant(300)));
    for at in [0, 100, 200] {
        s.on_alarm(s.next_alarm(), Instant(at), Instant(at));
        let d = s.start_next(Instant(at)).unwrap();
        s.finish(d, Instant(at + 1));
    }
    assert_eq!(
        s.next_alarm(),
        None,
        "the release at 300 is beyond the horizon"
    );
    s.on_alarm(None, Instant(400), Instant(400));
    assert_eq!(s.stats(t).unwrap().releases, 3);
    assert_eq!(s.stats(t).unwrap().misses, 0);
}
