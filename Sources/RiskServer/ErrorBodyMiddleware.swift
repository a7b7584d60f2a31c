import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The routes the API serves, as the router lists them once they are all registered: what tells
/// an unknown path (404) from a known path asked with another method (405 with `Allow`).
final class KnownRoutes: Sendable {
    private struct Route: Sendable {
        var segments: [String]
        var method: HTTPRequest.Method
    }

    private let routes = Mutex<[Route]>([])

    func record(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        let recorded = routes.map { Route(segments: $0.path.split(separator: "/").map(String.init), method: $0.method) }
        self.routes.withLock { $0 = recorded }
    }

    /// The methods registered for a path (`{name}` segments match any one segment), sorted.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return routes.withLock { routes in
            routes.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { pattern, segment in
                        pattern.hasPrefix("{") || pattern == segment
                    }
            }.map(\.method)
        }.sorted { $0.rawValue < $1.rawValue }
    }
}

/// Makes every error answer the API's JSON error body (`{"error": {"code", "message", "field"}}`):
/// the framework's own errors (an unknown route, a body over the limit) included, and a known
/// path asked with the wrong method becomes 405 with `Allow`. Errors that are not the API's own
/// (a database failure) answer 500 `internal_error` without their details.
struct ErrorBodyMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let routes: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound, context.coreContext.endpointPath.value == "NotFound" {
                let allowed = routes.methods(for: request.uri.path)
                if !allowed.isEmpty {
                    var answer = try APIError(
                        .methodNotAllowed, code: "method_not_allowed",
                        message:
                            "\(request.uri.path) answers \(allowed.map(\.rawValue).joined(separator: ", ")), not \(request.method.rawValue)"
                    ).response(from: request, context: context)
                    answer.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                    return answer
                }
                throw APIError(.notFound, code: "unknown_route", message: "no route \(request.method.rawValue) \(request.uri.path)")
            }
            switch error.status {
            case .contentTooLarge:
                throw APIError(
                    .contentTooLarge, code: "body_too_large", message: "the request body is over \(RiskService.maximumBodyBytes) bytes")
            default:
                throw APIError(error.status, code: Self.code(error.status), message: error.body ?? error.status.reasonPhrase)
            }
        } catch is NIOTooManyBytesError {
            // collectBody(upTo:) over the limit.
            throw APIError(
                .contentTooLarge, code: "body_too_large", message: "the request body is over \(RiskService.maximumBodyBytes) bytes")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", message: "the request failed inside the server; see its log")
        }
    }

    /// A snake_case code from a status's reason phrase (`Bad Request` → `bad_request`).
    static func code(_ status: HTTPResponse.Status) -> String {
        status.reasonPhrase.lowercased().split(whereSeparator: { !$0.isLetter }).joined(separator: "_")
    }
}
