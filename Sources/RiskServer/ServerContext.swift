import HTTPTypes
import Hummingbird
import RiskStore

/// The request context: Hummingbird's core storage plus the API key that authenticated the request.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``APIKeyMiddleware`` on the routes that need a key.
    public var key: APIKey?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Requests larger than this are refused with 413 before they are read.
    public var maxUploadSize: Int { RiskService.maximumBodyBytes }

    /// Who made the request, for the registry and the audit log (`api-key:NAME`). Only on
    /// routes behind ``RoleMiddleware``, which guarantees a key.
    var actor: String { "api-key:\(key?.name ?? "unknown")" }

    /// The role the route needs: 401 without a valid key, 403 with a key whose role does not include it.
    func require(_ role: APIRole) throws -> APIKey {
        guard let key else { throw APIError.missingKey }
        guard key.role.includes(role) else {
            throw APIError(
                .forbidden, code: "forbidden", message: "this needs the role '\(role.rawValue)'; the key has '\(key.role.rawValue)'")
        }
        return key
    }
}

/// Looks up the presented API key (`Authorization: Bearer <key>` or `X-API-Key`), so that routes
/// can check roles.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let service: RiskService
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let presented =
            request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            ?? request.headers[Self.apiKeyHeader]
        if let presented {
            guard let key = try await service.key(matching: presented) else { throw APIError.wrongKey }
            context.key = key
        }
        return try await next(request, context)
    }
}

/// Lets a request through to a route group only with a key whose role includes ``role``: 401
/// without a valid key, 403 with any other key. Every route is in one such group, so a new route
/// cannot forget its check.
struct RoleMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let role: APIRole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        _ = try context.require(role)
        return try await next(request, context)
    }
}
