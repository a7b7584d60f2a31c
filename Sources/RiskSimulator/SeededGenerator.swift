import Foundation

/// xoshiro256** seeded through SplitMix64: a small, fast generator whose stream depends only on
/// its seed, so a simulation replays byte for byte.
///
/// Each customer gets a generator of its own (``init(seed:stream:)``), which keeps the output
/// independent of how customers are spread over threads.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64, stream: UInt64 = 0) {
        var splitMix = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// Standard normal by Box–Muller (one draw per call; the pair's twin is discarded for simplicity).
    mutating func normal() -> Double {
        let u = 1 - unit()  // (0, 1]: log stays finite
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * unit())
    }

    /// Log-normal with the given median and log-scale spread.
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * Foundation.exp(sigma * normal())
    }

    /// Poisson by inversion; fine for the small means the simulator draws.
    mutating func poisson(mean: Double) -> Int {
        let limit = Foundation.exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }

    mutating func pick<T>(_ items: [T]) -> T { items[integer(0...(items.count - 1))] }

    /// One of `items`, chosen with probability proportional to its weight.
    mutating func pick<T>(weighted items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var threshold = unit() * total
        for (item, weight) in items {
            threshold -= weight
            if threshold < 0 { return item }
        }
        return items[items.count - 1].0
    }
}
