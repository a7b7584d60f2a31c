import Foundation
import RiskModels
import Synchronization

/// Where a deployment's signing key and trusted public keys live (docs/DESIGN.md, "Signed
/// artifacts"). Key files hold base64 of the raw 32 bytes, one line.
///
/// - Signing key: the file named by `RISKLOOP_SIGNING_KEY`; otherwise
///   `~/.config/riskloop/signing.key` (or under `$XDG_CONFIG_HOME`), created with mode 0600 on
///   first use, its public half written beside it as `trusted/<key id>.pub`.
/// - Trust: with `RISKLOOP_TRUSTED_KEYS` set, exactly the `*.pub` files of that directory (so a
///   deployment decides whom it trusts, and rotates a key by adding the new `.pub` before the
///   new key signs and removing the old one once no served model needs it). Otherwise the
///   per-user `trusted/` directory, the per-user signing key, and the sample key that signed the
///   shipped baselines (`Models/keys/`), which is why `serve` then warns.
public enum DeploymentKeys {
    /// The public key of `Models/keys/sample-signing.key`: trusted only while no trust directory
    /// is set. A test checks that it equals the committed `.pub` file.
    public static let samplePublicKey = "eRBQ4a1fHPrba0W88xcjwpCO1l3Ej0xFPwI+WdL3avQ="

    private static let cachedSigningKey = Mutex<SigningKey?>(nil)

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The per-user configuration directory.
    public static var configDirectory: URL {
        if let base = environment["XDG_CONFIG_HOME"], !base.isEmpty { return URL(filePath: base).appending(path: "riskloop") }
        return FileManager.default.homeDirectoryForCurrentUser.appending(path: ".config/riskloop")
    }

    /// Whether trust comes from `RISKLOOP_TRUSTED_KEYS` (a deployment's) rather than the per-user
    /// defaults, which also trust the sample key.
    public static var hasTrustDirectory: Bool { !(environment["RISKLOOP_TRUSTED_KEYS"] ?? "").isEmpty }

    /// The key that signs what this process writes (created on first use when none is configured).
    public static func signingKey() throws(EngineError) -> SigningKey {
        if let key = cachedSigningKey.withLock({ $0 }) { return key }
        let key: SigningKey
        if let path = environment["RISKLOOP_SIGNING_KEY"], !path.isEmpty {
            key = try readSigningKey(path)
        } else {
            let path = configDirectory.appending(path: "signing.key").path
            if FileManager.default.fileExists(atPath: path) {
                key = try readSigningKey(path)
            } else {
                key = try createSigningKey(at: path)
            }
        }
        cachedSigningKey.withLock { $0 = key }
        return key
    }

    /// The keys this process accepts signatures from.
    public static func trust(allowUnsigned: Bool = false) throws(EngineError) -> ArtifactTrust {
        var trust = ArtifactTrust(allowUnsigned: allowUnsigned)
        if let directory = environment["RISKLOOP_TRUSTED_KEYS"], !directory.isEmpty {
            for key in try publicKeys(in: directory) { try trusting { () throws(ModelError) in try trust.trust(rawPublicKey: key) } }
            return trust
        }
        let own = configDirectory.appending(path: "trusted").path
        if FileManager.default.fileExists(atPath: own) {
            for key in try publicKeys(in: own) { try trusting { () throws(ModelError) in try trust.trust(rawPublicKey: key) } }
        }
        let signing = try signingKey().rawPublicKey, sample = try publicKey(base64: samplePublicKey, file: "the sample key")
        try trusting { () throws(ModelError) in try trust.trust(rawPublicKey: signing) }
        try trusting { () throws(ModelError) in try trust.trust(rawPublicKey: sample) }
        return trust
    }

    /// Signs `artifact` with this process's key.
    public static func sign(_ artifact: inout ModelArtifact) throws(EngineError) {
        try signingKey().sign(&artifact)
    }

    private static func readSigningKey(_ path: String) throws(EngineError) -> SigningKey {
        guard let data = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .cannotRead(path: path, reason: "the signing key cannot be read")
        }
        guard let raw = Data(base64Encoded: data.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .badInput(file: path, line: 1, column: nil, reason: "not base64 of an Ed25519 private key")
        }
        do {
            return try SigningKey(rawRepresentation: raw)
        } catch {
            throw .badInput(file: path, line: 1, column: nil, reason: error.description)
        }
    }

    private static func createSigningKey(at path: String) throws(EngineError) -> SigningKey {
        let key = SigningKey()
        let directory = URL(filePath: path).deletingLastPathComponent()
        let trusted = directory.appending(path: "trusted")
        do {
            try FileManager.default.createDirectory(at: trusted, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Created 0600 before the key is written into it.
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            try Data((key.rawRepresentation.base64EncodedString() + "\n").utf8).write(to: URL(filePath: path))
            try Data((key.rawPublicKey.base64EncodedString() + "\n").utf8)
                .write(to: trusted.appending(path: "\(key.keyId).pub"))
        } catch {
            throw .cannotRead(path: path, reason: "cannot create the signing key: \(error)")
        }
        return key
    }

    private static func trusting(_ body: () throws(ModelError) -> Void) throws(EngineError) {
        do {
            try body()
        } catch {
            throw .model(error)
        }
    }

    /// The raw public keys of the `*.pub` files in `directory`.
    private static func publicKeys(in directory: String) throws(EngineError) -> [Data] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pub") }.sorted()
        } catch {
            throw .cannotRead(path: directory, reason: "the trusted keys cannot be listed: \(error)")
        }
        var keys: [Data] = []
        for name in names {
            let path = URL(filePath: directory).appending(path: name).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .cannotRead(path: path, reason: "the public key cannot be read")
            }
            keys.append(try publicKey(base64: text, file: path))
        }
        return keys
    }

    private static func publicKey(base64 text: String, file: String) throws(EngineError) -> Data {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
            throw .badInput(file: file, line: 1, column: nil, reason: "not base64 of a 32-byte Ed25519 public key")
        }
        return raw
    }
}
