import Crypto
import Foundation
import RiskContract

/// What an API key may do. `label` can also score; `analyst` reads and resolves review cases and
/// nothing else (an analyst's key is not a service's); `admin` can do everything.
public enum APIRole: String, Sendable, Codable, CaseIterable {
    case score, label, analyst, admin

    /// Whether a key of this role may do what `other` may.
    public func includes(_ other: APIRole) -> Bool {
        switch (self, other) {
        case (.admin, _): true
        case (.label, .score): true
        default: self == other
        }
    }
}

/// A stored API key, without the key.
public struct APIKey: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var role: APIRole
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    enum CodingKeys: String, CodingKey {
        case id, name, role
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    public init(id: Int64, name: String, role: APIRole, createdAt: Timestamp, revokedAt: Timestamp?) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

extension APIKey {
    /// A new key: `rl_` and 32 random bytes in hex. Only its ``sha256Hex(_:)`` is stored.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "rl_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The audit detail of a key's creation: its name and role as JSON.
    package static func creationDetail(name: String, role: APIRole) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(["name": name, "role": role.rawValue])) ?? Data(), as: UTF8.self)
    }

    /// The SHA-256 of `text` in lower-case hex, without `String(format:)`: keys are hashed on
    /// every request.
    package static func sha256Hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(text.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
