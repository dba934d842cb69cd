//! Leader election of a singleton's replicas on a real broker: of two replicas exactly one
//! leads, a replica joining later does not take over from a live leader, the standby takes
//! over when the leader leaves, and a leader that stalled past its poll interval is told it
//! lost the leadership.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_runtime::kafka::leader::{election_topic, Election};
use maxx_runtime::kafka::KafkaConfig;
use maxx_testkit::{bootstrap, create_topic, unique_name};

const AGENT: &str = "singleton";

fn config() -> KafkaConfig {
    let mut config = KafkaConfig::new(bootstrap());
    config.namespace = format!("{}.", unique_name("leader"));
    config.session_timeout = Duration::from_secs(6);
    create_topic(&election_topic(&config, AGENT), 1);
    config
}

/// Lets every replica take part in rounds of the group protocol until `done` holds for
/// their leadership flags; panics after `timeout`.
fn settle(elections: &[&Election], timeout: Duration, done: impl Fn(&[bool]) -> bool) -> Vec<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        for election in elections {
            election.take_part(Duration::from_millis(100));
        }
        let leaders: Vec<bool> = elections.iter().map(|e| e.is_leader()).collect();
        if done(&leaders) {
            return leaders;
        }
        assert!(Instant::now() < deadline, "the election did not settle within {timeout:?}: {leaders:?}");
    }
}

fn exactly_one(leaders: &[bool]) -> bool {
    leaders.iter().filter(|l| **l).count() == 1
}

#[test]
fn one_replica_leads_a_newcomer_waits_and_the_standby_takes_over_when_the_leader_leaves() {
    let config = config();
    let first = Election::join(&config, AGENT).expect("join");
    settle(&[&first], Duration::from_secs(30), |l| l == [true]);

    let second = Election::join(&config, AGENT).expect("join");
    // Give the newcomer's join time to complete a rebalance, then check nobody moved.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        for election in [&first, &second] {
            election.take_part(Duration::from_millis(100));
        }
        assert_eq!([first.is_leader(), second.is_leader()], [true, false], "the live leader keeps the leadership");
    }

    drop(first); // closes the consumer: leaves the group at once
    settle(&[&second], Duration::from_secs(30), |l| l == [true]);
}

#[test]
fn a_leader_that_stalls_loses_the_election_and_is_told_so() {
    let mut config = config();
    // The stalled leader is out once it has not polled for this long.
    config.overrides.push(("max.poll.interval.ms".into(), "7000".into()));
    let leader = Election::join(&config, AGENT).expect("join");
    settle(&[&leader], Duration::from_secs(30), exactly_one);
    let standby = Election::join(&config, AGENT).expect("join");

    // The leader stops polling (a hung agent); the standby keeps taking part.
    settle(&[&standby], Duration::from_secs(40), |l| l == [true]);

    // The old leader resumes: holding the election, it learns it lost and raises `lost`.
    let lost = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let holder = leader.hold(Arc::clone(&lost), Arc::clone(&stop));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lost.load(Ordering::SeqCst) {
        standby.take_part(Duration::from_millis(100));
        assert!(Instant::now() < deadline, "the stalled leader was never told it lost the leadership");
    }
    let leader = holder.join().expect("hold thread");
    assert!(!leader.is_leader());
    assert!(standby.is_leader(), "the standby still leads");
}
