import Foundation
import RiskContract

/// What an API key may do. Each role includes the ones before it: `label` can also score, `admin`
/// can do everything.
public enum APIRole: String, Sendable, Codable, CaseIterable, Comparable {
    case score, label, admin

    public static func < (lhs: APIRole, rhs: APIRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
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
