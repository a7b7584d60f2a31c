import Foundation
import Hummingbird

/// An error the API returns: `{"error": {"code", "message", "field"}}` with its HTTP status.
/// RiskServer is the only place where library errors become HTTP statuses.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
        }

        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Body(error: .init(code: code, message: message, field: field)))
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let missingKey = APIError(.unauthorized, code: "missing_api_key", message: "send an API key as 'Authorization: Bearer <key>'")
    static let wrongKey = APIError(.unauthorized, code: "invalid_api_key", message: "the API key is unknown or revoked")
}
