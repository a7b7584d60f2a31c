import Crypto
import Foundation

/// Who vouches for a model artifact: an Ed25519 signature over its SHA-256.
///
/// A checksum proves only that a file was not damaged: a forger who changes a weight pastes the
/// new checksum. A signature needs the deployment's private key, so ``ArtifactTrust/verify(_:)``
/// refuses an artifact changed by anyone who does not hold it.
public struct ArtifactSignature: Sendable, Codable, Equatable {
    /// The signing key's id (``SigningKey/keyId``).
    public var keyId: String
    /// Base64 of the Ed25519 signature of the artifact's `sha256` (its 64 hex digits as UTF-8).
    public var ed25519: String

    enum CodingKeys: String, CodingKey {
        case keyId = "key_id"
        case ed25519
    }
}

/// A key id: the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
func keyId(ofRawPublicKey raw: Data) -> String {
    String(ModelArtifact.sha256Hex(raw).prefix(16))
}

/// The private half of a deployment's key pair: it signs the artifacts RiskLoop writes.
///
/// ```swift
/// let key = SigningKey()
/// var artifact = trained
/// key.sign(&artifact)   // artifact.signature names key.keyId
/// ```
public struct SigningKey: Sendable {
    /// The raw 32 bytes (swift-crypto's key types are not `Sendable`; the bytes are).
    public let rawRepresentation: Data
    /// The raw 32 bytes of the public half.
    public let rawPublicKey: Data

    /// A new random key pair.
    public init() {
        let key = Curve25519.Signing.PrivateKey()
        (rawRepresentation, rawPublicKey) = (key.rawRepresentation, key.publicKey.rawRepresentation)
    }

    /// The key from its raw 32 bytes.
    public init(rawRepresentation: Data) throws(ModelError) {
        do {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
            (self.rawRepresentation, rawPublicKey) = (key.rawRepresentation, key.publicKey.rawRepresentation)
        } catch {
            throw .invalidArtifact(reason: "not an Ed25519 private key (32 raw bytes): \(error)")
        }
    }

    public var keyId: String { RiskModels.keyId(ofRawPublicKey: rawPublicKey) }

    /// Seals `artifact` (id and checksum from its content) and signs its checksum.
    public func sign(_ artifact: inout ModelArtifact) {
        artifact.signature = nil
        artifact.seal()
        let message = Data(artifact.sha256!.utf8)
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation),
            let signature = try? key.signature(for: message)
        else {
            preconditionFailure("Ed25519 signing does not fail on a valid key")
        }
        artifact.signature = ArtifactSignature(keyId: keyId, ed25519: signature.base64EncodedString())
    }
}

/// The public keys whose signatures a deployment accepts, and whether unsigned artifacts are let
/// through (only on an explicit request, for artifacts from elsewhere).
public struct ArtifactTrust: Sendable {
    /// Raw 32-byte public keys by key id.
    public private(set) var keys: [String: Data] = [:]
    public var allowUnsigned: Bool

    public init(allowUnsigned: Bool = false) {
        self.allowUnsigned = allowUnsigned
    }

    /// Trusts the public key of raw 32 bytes.
    public mutating func trust(rawPublicKey: Data) throws(ModelError) {
        do {
            _ = try Curve25519.Signing.PublicKey(rawRepresentation: rawPublicKey)
        } catch {
            throw .invalidArtifact(reason: "not an Ed25519 public key (32 raw bytes): \(error)")
        }
        keys[RiskModels.keyId(ofRawPublicKey: rawPublicKey)] = rawPublicKey
    }

    /// Refuses `artifact` unless a trusted key signed its checksum, and its id and checksum are
    /// the ones its content derives (``ModelArtifact/decode(from:)`` checks the checksum; the id
    /// is re-derived here, so a model cannot pass under another's id).
    ///
    /// - Throws: ``ModelError/invalidArtifact(reason:)`` naming what is wrong, never the
    ///   checksum a forger would need.
    public func verify(_ artifact: ModelArtifact) throws(ModelError) {
        var derived = artifact
        derived.seal()
        guard derived.id == artifact.id, derived.sha256 == artifact.sha256 else {
            throw .invalidArtifact(reason: "model \(artifact.id): its id or checksum is not the one its content derives")
        }
        guard let signature = artifact.signature else {
            if allowUnsigned { return }
            throw .invalidArtifact(
                reason: "model \(artifact.id) is not signed; sign it with a trusted key (riskloop keys sign), or pass --allow-unsigned")
        }
        guard let raw = keys[signature.keyId], let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw .invalidArtifact(
                reason: "model \(artifact.id) is signed by key \(signature.keyId), which is not trusted here (see RISKLOOP_TRUSTED_KEYS)")
        }
        guard let bytes = Data(base64Encoded: signature.ed25519),
            key.isValidSignature(bytes, for: Data((artifact.sha256 ?? "").utf8))
        else {
            throw .invalidArtifact(
                reason:
                    "model \(artifact.id): the signature of key \(signature.keyId) does not match its content; it was changed after it was signed"
            )
        }
    }
}
