//! The same work on parts of a batch, on every core: the first part on
//! the caller's thread, each other on a scoped thread of its own, the
//! results in the parts' order.

/// How many parts a big batch is worth splitting into: the cores there are.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `work` on every part, the parts' results one after the other. A panic
/// in a part is the caller's.
pub fn map_parts<P: Send, R: Send>(
    parts: impl IntoIterator<Item = P>,
    work: impl Fn(P) -> Vec<R> + Sync,
) -> Vec<R> {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    let work = &work;
    std::thread::scope(|scope| {
        let others: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        let mut all = work(first);
        for other in others {
            all.extend(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_order() {
        for (items, chunk) in [(0, 2), (1, 2), (2, 2), (7, 2), (7, 3), (100, 4), (5, 8)] {
            let numbers: Vec<u32> = (0..items).collect();
            let doubled = map_parts(numbers.chunks(chunk), |part| {
                part.iter().map(|n| n * 2).collect()
            });
            let expected: Vec<u32> = numbers.iter().map(|n| n * 2).collect();
            assert_eq!(doubled, expected, "{items} in chunks of {chunk}");
        }
    }

    #[test]
    fn a_panic_in_a_part_is_the_callers() {
        let caught = std::panic::catch_unwind(|| {
            map_parts([1, 2, 3, 4].chunks(2), |part| {
                assert!(!part.contains(&4), "four");
                part.to_vec()
            })
        });
        assert!(caught.is_err());
    }
}
