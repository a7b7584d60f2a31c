import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

@Suite struct ArtifactSigningTests {
    static func artifact(weight: Double = 1) -> ModelArtifact {
        ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: .object(JSONObject()),
            columns: ["a", "b"], logisticRegression: LogisticModel(intercept: -1, weights: [weight, 2]),
            hyperparameters: .init(holdout: "none"),
            training: .init(
                source: "hand", rows: 0, positives: 0, totalWeight: 0, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
    }

    static func reason(_ body: () throws(ModelError) -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aSignedArtifactVerifiesAndRoundTrips() throws {
        let key = SigningKey()
        var artifact = Self.artifact()
        key.sign(&artifact)
        var trust = ArtifactTrust()
        try trust.trust(rawPublicKey: key.rawPublicKey)
        let read = try ModelArtifact.decode(from: artifact.encoded(), trust: trust)
        #expect(read == artifact && read.signature?.keyId == key.keyId)
        // The signature is outside the id and the checksum: signing changes neither.
        #expect(artifact.id == Self.artifact().id && artifact.sha256 == Self.artifact().sha256)
    }

    /// Round 1: a changed weight with the new checksum pasted in was accepted under the genuine id.
    @Test func aForgedArtifactIsRefused() throws {
        let key = SigningKey()
        var trust = ArtifactTrust()
        try trust.trust(rawPublicKey: key.rawPublicKey)
        var genuine = Self.artifact()
        key.sign(&genuine)

        var resealed = genuine
        resealed.logisticRegression!.weights[0] = 9
        resealed.sha256 = resealed.computedSHA256()  // the checksum pasted, the id kept
        #expect(Self.reason { () throws(ModelError) in try trust.verify(resealed) }?.contains("not the one its content derives") == true)

        var rederived = resealed
        rederived.seal()  // a consistent id and checksum, the old signature
        #expect(Self.reason { () throws(ModelError) in try trust.verify(rederived) }?.contains("does not match its content") == true)

        var unsigned = rederived
        unsigned.signature = nil
        #expect(Self.reason { () throws(ModelError) in try trust.verify(unsigned) }?.contains("is not signed") == true)
        var lenient = trust
        lenient.allowUnsigned = true
        #expect(Self.reason { () throws(ModelError) in try lenient.verify(unsigned) } == nil)
        // A signature is checked even when unsigned artifacts are allowed.
        #expect(Self.reason { () throws(ModelError) in try lenient.verify(rederived) } != nil)

        var otherKey = rederived
        SigningKey().sign(&otherKey)
        #expect(Self.reason { () throws(ModelError) in try trust.verify(otherKey) }?.contains("not trusted here") == true)
        // The checksum refusal no longer prints the checksum a forger would paste.
        var pasted = genuine
        pasted.logisticRegression!.weights[0] = 9
        let message = Self.reason { () throws(ModelError) in _ = try ModelArtifact.decode(from: pasted.encoded()) } ?? ""
        #expect(!message.contains(pasted.computedSHA256()))
    }
}
