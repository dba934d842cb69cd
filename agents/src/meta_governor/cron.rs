//! Five-field cron schedules (minute hour day-of-month month day-of-week, UTC) evaluated in
//! event time: [`Schedule::next_after`] gives the first fire time strictly after an instant.
//!
//! Each field is `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to
//! the field's maximum), or a comma list of those. Day of week 0 and 7 are Sunday. As in
//! classic cron, when both day of month and day of week are restricted (neither is `*`) a
//! day matches if *either* matches; otherwise both must.

use maxx_events::EventTime;

/// Microseconds in a minute.
const MINUTE_US: i64 = 60_000_000;
/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;
/// How far ahead a fire time is searched for (days): eight years covers every leap-day and
/// weekday combination; a schedule that never fires within it (e.g. 31 February) never fires.
const SEARCH_DAYS: i64 = 8 * 366;

/// A parsed cron schedule: per field, a bit set of the allowed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    /// Day of month was `*`.
    any_day_of_month: bool,
    /// Day of week was `*`.
    any_day_of_week: bool,
}

/// A cron expression that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cron {expression:?}: {problem}")]
pub struct CronError {
    /// The expression.
    pub expression: String,
    /// What is wrong with it.
    pub problem: String,
}

impl Schedule {
    /// Parses a five-field expression.
    ///
    /// # Errors
    /// [`CronError`] for a wrong number of fields or a value, range or step out of range.
    pub fn parse(expression: &str) -> Result<Self, CronError> {
        let error = |problem: String| CronError { expression: expression.to_string(), problem };
        let fields: Vec<&str> = expression.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(error(format!("{} fields; cron needs 5 (minute hour day month weekday)", fields.len())));
        };
        let mut days_of_week = parse_field(weekday, 0, 7).map_err(error)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week | 1) & !(1 << 7); // 7 is Sunday too
        }
        Ok(Self {
            minutes: parse_field(minute, 0, 59).map_err(error)?,
            hours: parse_field(hour, 0, 23).map_err(error)?,
            days_of_month: parse_field(day, 1, 31).map_err(error)?,
            months: parse_field(month, 1, 12).map_err(error)?,
            days_of_week,
            any_day_of_month: *day == "*",
            any_day_of_week: *weekday == "*",
        })
    }

    /// The first fire time strictly after `after` (fire times are whole UTC minutes), or
    /// `None` when the schedule does not fire within eight years.
    pub fn next_after(&self, after: EventTime) -> Option<EventTime> {
        // The first whole minute strictly after `after`.
        let first = after.as_micros().div_euclid(MINUTE_US).checked_add(1)?.checked_mul(MINUTE_US)?;
        let first_day = first.div_euclid(DAY_US);
        let first_minute = first.rem_euclid(DAY_US) / MINUTE_US;
        (first_day..first_day.checked_add(SEARCH_DAYS)?).find_map(|day| {
            if !self.day_matches(day) {
                return None;
            }
            let minute_of_day = self.first_time_of_day(if day == first_day { first_minute } else { 0 })?;
            day.checked_mul(DAY_US)?.checked_add(minute_of_day * MINUTE_US).map(EventTime::from_micros)
        })
    }

    /// True when a fire time lies in `(previous, now]`.
    pub fn fired_between(&self, previous: EventTime, now: EventTime) -> bool {
        self.next_after(previous).is_some_and(|next| next <= now)
    }

    fn day_matches(&self, day: i64) -> bool {
        let (_, month, day_of_month) = civil_from_days(day);
        if self.months & (1 << month) == 0 {
            return false;
        }
        let weekday = (day + 4).rem_euclid(7); // 1970-01-01 was a Thursday
        let by_month_day = self.days_of_month & (1 << day_of_month) != 0;
        let by_weekday = self.days_of_week & (1 << weekday) != 0;
        if !self.any_day_of_month && !self.any_day_of_week {
            by_month_day || by_weekday
        } else {
            by_month_day && by_weekday
        }
    }

    /// The first allowed minute of the day (0..1440) at or after `from_minute`.
    fn first_time_of_day(&self, from_minute: i64) -> Option<i64> {
        (from_minute..24 * 60).find(|m| self.hours & (1 << (m / 60)) != 0 && self.minutes & (1 << (m % 60)) != 0)
    }
}

/// One field as a bit set of values in `min..=max`.
fn parse_field(field: &str, min: u32, max: u32) -> Result<u64, String> {
    let number = |text: &str| -> Result<u32, String> {
        let n: u32 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} is outside {min}-{max}"))
        }
    };
    let mut bits = 0u64;
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => {
                let step: u32 = step.parse().map_err(|_| format!("step {step:?} is not a number"))?;
                if step == 0 || step > max {
                    return Err(format!("step {step} is outside 1-{max}"));
                }
                (base, Some(step))
            }
            None => (item, None),
        };
        let (from, to) = if base == "*" {
            (min, max)
        } else if let Some((from, to)) = base.split_once('-') {
            let (from, to) = (number(from)?, number(to)?);
            if from > to {
                return Err(format!("range {from}-{to} runs backwards"));
            }
            (from, to)
        } else {
            let n = number(base)?;
            (n, if step.is_some() { max } else { n })
        };
        let step = step.unwrap_or(1);
        let mut value = from;
        while value <= to {
            bits |= 1 << value;
            value += step;
        }
    }
    Ok(bits)
}

/// The proleptic Gregorian (year, month 1..=12, day 1..=31) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Eras of 400 years (146 097 days) starting on 0000-03-01, so that the leap day ends a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microseconds of a UTC date and time (test helper; inverse of `civil_from_days`).
    fn at(year: i64, month: u32, day: u32, hour: i64, minute: i64) -> EventTime {
        let mut days = 0i64;
        // Walk from the epoch: slow but obviously right for test dates.
        let target = (year, month, day);
        let step = if (year, month, day) >= (1970, 1, 1) { 1 } else { -1 };
        while civil_from_days(days) != target {
            days += step;
        }
        EventTime::from_micros(days * DAY_US + (hour * 60 + minute) * MINUTE_US)
    }

    fn next(expression: &str, after: EventTime) -> Option<EventTime> {
        Schedule::parse(expression).expect("valid cron").next_after(after)
    }

    #[test]
    fn civil_dates_round_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29), "2000 is a leap year");
        assert_eq!(civil_from_days(20_597), (2026, 5, 24));
    }

    #[test]
    fn daily_schedules_fire_across_day_month_and_year_boundaries() {
        // 10 past midnight: from 23:59 on Dec 31 the next fire is on Jan 1 of the next year.
        assert_eq!(next("10 0 * * *", at(2026, 12, 31, 23, 59)), Some(at(2027, 1, 1, 0, 10)));
        // Strictly after: at the fire time itself the next one is a day later.
        assert_eq!(next("10 0 * * *", at(2026, 11, 25, 0, 10)), Some(at(2026, 11, 26, 0, 10)));
        assert_eq!(next("10 0 * * *", EventTime::from_micros(at(2026, 11, 25, 0, 10).as_micros() - 1)), Some(at(2026, 11, 25, 0, 10)));
        let daily = Schedule::parse("5 1 * * *").expect("valid");
        assert!(daily.fired_between(at(2026, 2, 28, 23, 0), at(2026, 3, 1, 1, 5)), "fires across the month end");
        assert!(!daily.fired_between(at(2026, 2, 28, 23, 0), at(2026, 3, 1, 1, 4)), "not yet");
        assert!(!daily.fired_between(at(2026, 3, 1, 1, 5), at(2026, 3, 2, 1, 4)), "the 1:05 fire was before the interval");
    }

    #[test]
    fn ranges_lists_and_steps() {
        // Every 15 minutes 9-17 on weekdays: Friday 17:50 -> Monday 09:00 (2026-11-27 is a Friday).
        assert_eq!(next("*/15 9-17 * * 1-5", at(2026, 11, 27, 17, 50)), Some(at(2026, 11, 30, 9, 0)));
        assert_eq!(next("*/15 9-17 * * 1-5", at(2026, 11, 27, 9, 1)), Some(at(2026, 11, 27, 9, 15)));
        assert_eq!(next("0 0 1,15 * *", at(2026, 1, 2, 0, 0)), Some(at(2026, 1, 15, 0, 0)));
        assert_eq!(next("30 2-10/4 * * *", at(2026, 1, 2, 6, 31)), Some(at(2026, 1, 2, 10, 30)));
        assert_eq!(next("30 20/2 * * *", at(2026, 1, 2, 22, 31)), Some(at(2026, 1, 3, 20, 30)), "a/n runs to the maximum");
        // Sunday as 7 and as 0 (2026-11-29 is a Sunday).
        assert_eq!(next("0 12 * * 7", at(2026, 11, 25, 0, 0)), Some(at(2026, 11, 29, 12, 0)));
        assert_eq!(next("0 12 * * 0", at(2026, 11, 25, 0, 0)), Some(at(2026, 11, 29, 12, 0)));
    }

    #[test]
    fn restricted_day_of_month_and_weekday_match_either() {
        // The 1st or any Monday: after Wed 2026-11-25 comes Monday the 30th, then Dec 1.
        assert_eq!(next("0 0 1 * 1", at(2026, 11, 25, 0, 0)), Some(at(2026, 11, 30, 0, 0)));
        assert_eq!(next("0 0 1 * 1", at(2026, 11, 30, 0, 0)), Some(at(2026, 12, 1, 0, 0)));
    }

    #[test]
    fn leap_days_and_impossible_dates() {
        assert_eq!(next("0 0 29 2 *", at(2026, 3, 1, 0, 0)), Some(at(2028, 2, 29, 0, 0)));
        assert_eq!(next("0 0 31 2 *", at(2026, 3, 1, 0, 0)), None, "February 31 never comes");
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in ["10 0 * *", "60 0 * * *", "0 24 * * *", "0 0 0 * *", "*/0 * * * *", "a b c d e", "5-1 * * * *", "0 0 * 13 *", "0 0 * * 8"] {
            assert!(Schedule::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
