/// Limited-memory BFGS, with OWL-QN for an L1 term, minimising `f(x) + Σ l1ᵢ·|xᵢ|`.
///
/// Smooth problems use a line search that satisfies the strong Wolfe conditions
/// (Nocedal & Wright, *Numerical Optimization*, algorithms 3.5 and 3.6, with cubic
/// interpolation); with an L1 term the search is the projected backtracking of OWL-QN
/// (Andrew & Gao, 2007). Iteration stops when the largest entry of the (pseudo-)gradient is at
/// most `tolerance`, or after `maxIterations`; the result says which.
struct LBFGS {
    var memory = 10
    var tolerance: Double
    var maxIterations: Int
    /// Armijo constant (sufficient decrease).
    static let c1 = 1e-4
    /// Curvature constant of the strong Wolfe condition.
    static let c2 = 0.9
    /// Relative change of `f` below which values count as equal (Hager & Zhang's approximate
    /// Wolfe conditions): near the optimum, decreases fall below double precision while the
    /// gradient still points the way.
    static let flatRelative = 1e-12

    /// Sufficient decrease, or its approximate form when `f` is flat to machine precision.
    static func sufficientDecrease(f: Double, slopeAt: Double, alpha: Double, value: Double, slope: Double) -> Bool {
        if f <= value + c1 * alpha * slope { return true }
        return f <= value + flatRelative * abs(value) && slopeAt <= (2 * c1 - 1) * slope
    }

    struct Result {
        var x: [Double]
        /// `f(x) + Σ l1ᵢ·|xᵢ|` at `x`.
        var value: Double
        var iterations: Int
        var converged: Bool
        /// max |gᵢ| of the (pseudo-)gradient at `x`.
        var gradientMax: Double
        /// Why iteration stopped, in words.
        var stopReason: String
    }

    /// - Parameters:
    ///   - l1: per-coordinate L1 strengths (0 leaves a coordinate unpenalised); `nil` for none.
    ///   - objective: writes ∇f(x) into its second argument and returns f(x).
    func minimize(from start: [Double], l1: [Double]? = nil, objective: ([Double], inout [Double]) -> Double) -> Result {
        let n = start.count
        let penalised = l1.map { $0.contains { $0 > 0 } } ?? false
        let l1 = penalised ? l1! : Array(repeating: 0, count: n)
        func total(_ smooth: Double, _ x: [Double]) -> Double {
            guard penalised else { return smooth }
            var sum = smooth
            for i in 0..<n { sum += l1[i] * abs(x[i]) }
            return sum
        }
        func pseudoGradient(_ x: [Double], _ g: [Double]) -> [Double] {
            guard penalised else { return g }
            var pg = g
            for i in 0..<n where l1[i] > 0 {
                if x[i] > 0 {
                    pg[i] = g[i] + l1[i]
                } else if x[i] < 0 {
                    pg[i] = g[i] - l1[i]
                } else if g[i] + l1[i] < 0 {
                    pg[i] = g[i] + l1[i]
                } else if g[i] - l1[i] > 0 {
                    pg[i] = g[i] - l1[i]
                } else {
                    pg[i] = 0
                }
            }
            return pg
        }

        var x = start
        var g = [Double](repeating: 0, count: n)
        var smooth = objective(x, &g)
        var value = total(smooth, x)
        var pg = pseudoGradient(x, g)
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        var iteration = 0
        while true {
            let gradientMax = pg.map(abs).max() ?? 0
            if gradientMax <= tolerance {
                return Result(
                    x: x, value: value, iterations: iteration, converged: true, gradientMax: gradientMax,
                    stopReason: "max |gradient| \(gradientMax) ≤ tolerance \(tolerance)")
            }
            if iteration >= maxIterations {
                return Result(
                    x: x, value: value, iterations: iteration, converged: false, gradientMax: gradientMax,
                    stopReason: "reached max_iter \(maxIterations) with max |gradient| \(gradientMax) > tolerance \(tolerance)")
            }
            iteration += 1

            // Two-loop recursion: d = -H·pg.
            var d = pg.map { -$0 }
            var alphas = [Double](repeating: 0, count: s.count)
            for k in stride(from: s.count - 1, through: 0, by: -1) {
                alphas[k] = rho[k] * BLAS.dot(s[k], d)
                BLAS.axpy(-alphas[k], y[k], &d)
            }
            if let last = s.indices.last {
                BLAS.scal(BLAS.dot(s[last], y[last]) / BLAS.dot(y[last], y[last]), &d)
            } else {
                // First step: a unit step along the steepest descent direction, scaled to length 1.
                BLAS.scal(1 / max(BLAS.dot(pg, pg).squareRoot(), 1e-300), &d)
            }
            for k in 0..<s.count {
                let beta = rho[k] * BLAS.dot(y[k], d)
                BLAS.axpy(alphas[k] - beta, s[k], &d)
            }
            if penalised {
                // OWL-QN: keep only the components that move against the pseudo-gradient.
                for i in 0..<n where d[i] * pg[i] >= 0 { d[i] = 0 }
            }
            var slope = BLAS.dot(pg, d)
            if !(slope < 0) {
                // Not a descent direction (curvature pairs went stale): restart from steepest descent.
                s.removeAll()
                y.removeAll()
                rho.removeAll()
                d = pg.map { -$0 / max(BLAS.dot(pg, pg).squareRoot(), 1e-300) }
                slope = BLAS.dot(pg, d)
            }

            let step: (x: [Double], g: [Double], smooth: Double, value: Double)?
            if penalised {
                step = owlqnSearch(
                    x: x, value: value, pg: pg, d: d, l1: l1, total: total, pseudoGradient: pseudoGradient, objective: objective)
            } else {
                step = wolfeSearch(x: x, value: value, g: g, d: d, slope: slope, objective: objective)
            }
            guard let step else {
                let gradientMax = pg.map(abs).max() ?? 0
                return Result(
                    x: x, value: value, iterations: iteration, converged: gradientMax <= tolerance,
                    gradientMax: gradientMax,
                    stopReason:
                        "the line search found no further decrease (max |gradient| \(gradientMax)); the objective is flat to machine precision"
                )
            }
            var sk = step.x, yk = step.g
            BLAS.axpy(-1, x, &sk)
            BLAS.axpy(-1, g, &yk)
            let sy = BLAS.dot(sk, yk)
            if sy > 1e-12 * BLAS.dot(yk, yk).squareRoot() * BLAS.dot(sk, sk).squareRoot() {
                if s.count == memory {
                    s.removeFirst()
                    y.removeFirst()
                    rho.removeFirst()
                }
                s.append(sk)
                y.append(yk)
                rho.append(1 / sy)
            }
            x = step.x
            g = step.g
            smooth = step.smooth
            value = step.value
            pg = pseudoGradient(x, g)
        }
    }

    /// Strong Wolfe line search along `d`; `nil` when no step decreases `f`.
    private func wolfeSearch(
        x: [Double], value: Double, g: [Double], d: [Double], slope: Double,
        objective: ([Double], inout [Double]) -> Double
    ) -> (x: [Double], g: [Double], smooth: Double, value: Double)? {
        var gTrial = g
        func evaluate(_ alpha: Double) -> (f: Double, slope: Double, x: [Double], g: [Double]) {
            var trial = x
            BLAS.axpy(alpha, d, &trial)
            let f = objective(trial, &gTrial)
            return (f, BLAS.dot(gTrial, d), trial, gTrial)
        }
        var previousAlpha = 0.0, previousF = value, previousSlope = slope
        var alpha = 1.0
        for attempt in 0..<40 {
            let trial = evaluate(alpha)
            if !trial.f.isFinite {
                alpha *= 0.5
                continue
            }
            if !Self.sufficientDecrease(f: trial.f, slopeAt: trial.slope, alpha: alpha, value: value, slope: slope)
                || (attempt > 0 && trial.f > previousF)
            {
                return zoom(
                    low: (previousAlpha, previousF, previousSlope), high: (alpha, trial.f, trial.slope),
                    value: value, slope: slope, evaluate: evaluate)
            }
            if abs(trial.slope) <= -Self.c2 * slope { return (trial.x, trial.g, trial.f, trial.f) }
            if trial.slope >= 0 {
                return zoom(
                    low: (alpha, trial.f, trial.slope), high: (previousAlpha, previousF, previousSlope),
                    value: value, slope: slope, evaluate: evaluate)
            }
            previousAlpha = alpha
            previousF = trial.f
            previousSlope = trial.slope
            alpha *= 2
        }
        return nil
    }

    private func zoom(
        low initialLow: (alpha: Double, f: Double, slope: Double), high initialHigh: (alpha: Double, f: Double, slope: Double),
        value: Double, slope: Double, evaluate: (Double) -> (f: Double, slope: Double, x: [Double], g: [Double])
    ) -> (x: [Double], g: [Double], smooth: Double, value: Double)? {
        var low = initialLow, high = initialHigh
        var best: (x: [Double], g: [Double], f: Double)? = nil
        for _ in 0..<60 {
            let alpha = Self.cubicMinimizer(low, high)
            let trial = evaluate(alpha)
            if trial.f.isFinite, trial.f < value, best == nil || trial.f < best!.f { best = (trial.x, trial.g, trial.f) }
            if !trial.f.isFinite || !Self.sufficientDecrease(f: trial.f, slopeAt: trial.slope, alpha: alpha, value: value, slope: slope)
                || trial.f > low.f
            {
                high = (alpha, trial.f, trial.slope)
            } else {
                if abs(trial.slope) <= -Self.c2 * slope { return (trial.x, trial.g, trial.f, trial.f) }
                if trial.slope * (high.alpha - low.alpha) >= 0 { high = low }
                low = (alpha, trial.f, trial.slope)
            }
            if abs(high.alpha - low.alpha) <= 1e-16 * max(1, abs(low.alpha)) { break }
        }
        // The interval collapsed: accept the best decrease seen (Armijo holds for it), if any.
        return best.map { ($0.x, $0.g, $0.f, $0.f) }
    }

    /// The minimiser of the cubic through two points with slopes, kept inside the interval
    /// (bisection when the cubic is unusable).
    static func cubicMinimizer(_ a: (alpha: Double, f: Double, slope: Double), _ b: (alpha: Double, f: Double, slope: Double))
        -> Double
    {
        let lower = min(a.alpha, b.alpha), upper = max(a.alpha, b.alpha)
        let middle = (a.alpha + b.alpha) / 2
        guard a.f.isFinite, b.f.isFinite, a.slope.isFinite, b.slope.isFinite else { return middle }
        let d1 = a.slope + b.slope - 3 * (a.f - b.f) / (a.alpha - b.alpha)
        let discriminant = d1 * d1 - a.slope * b.slope
        guard discriminant >= 0 else { return middle }
        let d2 = (b.alpha > a.alpha ? 1.0 : -1.0) * discriminant.squareRoot()
        let candidate = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
        let margin = 0.1 * (upper - lower)
        guard candidate.isFinite, candidate > lower + margin, candidate < upper - margin else { return middle }
        return candidate
    }

    /// OWL-QN's projected backtracking: stay in the orthant of the current point (or of the
    /// negative pseudo-gradient where a coordinate is zero).
    private func owlqnSearch(
        x: [Double], value: Double, pg: [Double], d: [Double], l1: [Double],
        total: (Double, [Double]) -> Double, pseudoGradient: ([Double], [Double]) -> [Double],
        objective: ([Double], inout [Double]) -> Double
    ) -> (x: [Double], g: [Double], smooth: Double, value: Double)? {
        let gradientMax = pg.map(abs).max() ?? 0
        let orthant = x.indices.map { x[$0] != 0 ? (x[$0] > 0 ? 1.0 : -1.0) : (pg[$0] < 0 ? 1.0 : (pg[$0] > 0 ? -1.0 : 0)) }
        var alpha = 1.0
        var g = [Double](repeating: 0, count: x.count)
        for _ in 0..<60 {
            var trial = x
            BLAS.axpy(alpha, d, &trial)
            for i in trial.indices where l1[i] > 0 && trial[i] * orthant[i] <= 0 { trial[i] = 0 }
            let smooth = objective(trial, &g)
            let trialValue = total(smooth, trial)
            var moved = trial
            BLAS.axpy(-1, x, &moved)
            if trialValue.isFinite, trialValue <= value + Self.c1 * BLAS.dot(pg, moved) {
                // Equal values mean the step moved nothing that matters: no further progress.
                return trialValue < value ? (trial, g, smooth, trialValue) : nil
            }
            // Flat to machine precision: progress is a smaller pseudo-gradient.
            if trialValue <= value + Self.flatRelative * abs(value),
                (pseudoGradient(trial, g).map(abs).max() ?? 0) < gradientMax
            {
                return (trial, g, smooth, trialValue)
            }
            alpha *= 0.5
        }
        return nil
    }
}
