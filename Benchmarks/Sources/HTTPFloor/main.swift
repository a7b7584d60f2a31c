import Foundation
import Hummingbird
import Logging

/// The HTTP framework's own ceiling for `/v1/score`'s shape on this machine: the same Hummingbird
/// version and configuration as `riskloop serve`, reading the same request body, answering a
/// decision of the same size, and doing nothing else (no key check, no parsing, no scoring, no
/// decision log). `Benchmarks/compare_http.py` loads it beside `riskloop serve`, so that the
/// service's figure reads as a share of what the framework alone reaches.
///
///     HTTPFloor PORT

/// A decision as `riskloop serve` answers the benchmark's event (695 bytes).
let answer = ByteBuffer(
    string: #"""
        {"band":"low","decision":"allow","event_id":"wrk-1","model_id":"lr-c0ed57feeeae","policy_version":"ss7-2026-11-23.1",\#
        "probability":0.0007877597392340441,"reasons":[{"column":"forwarding.unconditional=false&otp.channel=sms",\#
        "contribution":0.8743427898389822,"text":"not unconditional call forwarding active and how the one-time code is \#
        delivered: sms"},{"column":"ss7.sri_lookups","contribution":0.6328371118090611,"text":"SRI-for-SM lookups of the \#
        number in 24 h (log): 1"},{"column":"device_swap_age=unknown","contribution":0.4359685370141913,"text":"time since \#
        the handset changed: unknown"}],"rules_applied":[],"spec_sha256":"a40b7246b9c28f4bfa137b7ab7c73fc559f4dd67aa526a2bbc\#
        7daa181e088fc8"}
        """#)

guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]) else {
    print("usage: HTTPFloor PORT")
    exit(64)
}
let router = Router()
router.post("/v1/score") { request, context in
    var request = request
    // As riskloop does: the whole body, up to its limit, before answering.
    _ = try await request.collectBody(upTo: 4 << 20)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
}
router.get("/healthz") { _, _ in "ok" }
var logger = Logger(label: "http-floor")
logger.logLevel = .info
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "http-floor"), logger: logger)
try await app.runService()
