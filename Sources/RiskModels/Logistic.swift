import Foundation

/// Numerically stable logistic functions.
public enum Logistic {
    /// σ(z) = 1 / (1 + e^(−z)), without overflow for large |z|.
    @inlinable public static func sigmoid(_ z: Double) -> Double {
        if z >= 0 { return 1 / (1 + exp(-z)) }
        let e = exp(z)
        return e / (1 + e)
    }

    /// log(1 + e^z), without overflow for large z and without cancellation for very negative z.
    @inlinable public static func softplus(_ z: Double) -> Double {
        max(z, 0) + log1p(exp(-abs(z)))
    }

    /// The log loss of label `y` (0 or 1) at raw score `z`: −y·log σ(z) − (1−y)·log(1 − σ(z)).
    @inlinable public static func logLoss(label y: Double, score z: Double) -> Double {
        softplus(z) - y * z
    }

    /// log(p / (1 − p)), the inverse of ``sigmoid(_:)``.
    @inlinable public static func logit(_ p: Double) -> Double {
        log(p) - log1p(-p)
    }
}
