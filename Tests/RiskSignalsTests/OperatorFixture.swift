import AsyncHTTPClient
import Foundation
import JWTKit
import RiskContract
import RiskOperatorStub
import RiskSignals

/// A stub operator with one registered client, its view of three lines, and the configuration
/// RiskLoop would use to reach it.
struct OperatorFixture {
    static let swapped = "+447700900001"
    static let quiet = "+447700900002"
    /// Known to the operator, with no signals observed (every API: 422 SERVICE_NOT_APPLICABLE).
    static let bare = "+447700900003"
    static let unknown = "+447700900999"
    static let clientId = "bank-test"

    let stub: OperatorStub
    let key: ES256PrivateKey
    let directory: URL

    static var view: OperatorView {
        let at = Timestamp(rfc3339: "2026-03-01T09:00:00Z")!
        return OperatorView(lines: [
            swapped: .init(
                observations: [
                    .init(
                        at: at,
                        telco: TelcoSignals(
                            simSwap: SwapSignal(latestChange: Timestamp(rfc3339: "2026-03-01T07:30:00Z"), monitoredPeriodDays: 120),
                            deviceSwap: SwapSignal(latestChange: nil, monitoredPeriodDays: 120),
                            callForwarding: [.unconditional, .conditionalBusy],
                            roaming: RoamingStatus(
                                roaming: true, countryCodes: ["FR"], lastStatusTime: Timestamp(rfc3339: "2026-03-01T08:00:00Z")),
                            reachability: ReachabilityStatus(reachable: true, connectivity: [.data])))
                ], subscriberSince: Timestamp(rfc3339: "2026-02-10T00:00:00Z")),
            quiet: .init(
                observations: [
                    .init(
                        at: at,
                        telco: TelcoSignals(
                            simSwap: SwapSignal(latestChange: nil, monitoredPeriodDays: 120), deviceSwap: SwapSignal(latestChange: nil),
                            callForwarding: [.inactive], roaming: RoamingStatus(roaming: false, countryCodes: []),
                            reachability: ReachabilityStatus(reachable: true, connectivity: [.data, .sms])))
                ], subscriberSince: Timestamp(rfc3339: "2019-05-01T00:00:00Z")),
            bare: .init(observations: [.init(at: at, telco: TelcoSignals())]),
        ])
    }

    init(faults: OperatorStub.Faults = .init(), tokenLifetime: Duration = .seconds(3_600)) async throws {
        key = ES256PrivateKey()
        stub = await OperatorStub(view: Self.view, clients: [Self.clientId: key.publicKey], tokenLifetime: tokenLifetime, faults: faults)
        directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-signals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try key.pemRepresentation.write(to: directory.appending(path: "client.pem"), atomically: true, encoding: .utf8)
    }

    /// The configuration file's text for the stub at `baseURL`. The deadline is long by default:
    /// these tests check answers, not speed, and run beside the whole suite on two cores.
    func configurationJSON(
        baseURL: String, deadlineMs: Int = 30_000, apis: [OperatorAPI] = OperatorAPI.allCases, extra: String = "",
        price: (OperatorAPI) -> Double = { _ in 0.05 }
    ) -> String {
        let prices = apis.map { #""\#($0.rawValue)": {"price": \#(price($0))}"# }.joined(separator: ", ")
        return """
            {"deadline_ms": \(deadlineMs), "operators": [{"name": "stub", "prefixes": ["+44"], "base_url": "\(baseURL)",
              "token_url": "\(baseURL)/oauth/token", "client_id": "\(Self.clientId)", "credentials_file": "client.pem",
              "apis": {\(prices)}\(extra)}]}
            """
    }

    func configuration(
        baseURL: String, deadlineMs: Int = 30_000, apis: [OperatorAPI] = OperatorAPI.allCases, extra: String = "",
        price: (OperatorAPI) -> Double = { _ in 0.05 }
    ) throws -> OperatorConfiguration {
        let url = directory.appending(path: "operators-\(UUID().uuidString).json")
        try configurationJSON(baseURL: baseURL, deadlineMs: deadlineMs, apis: apis, extra: extra, price: price).write(
            to: url, atomically: true, encoding: .utf8)
        return try OperatorConfiguration.read(from: url)
    }

    static func event(_ id: String = "e1", phone: String? = swapped, enrolled: String? = "2025-01-15T00:00:00Z", telco: String? = nil)
        -> Event
    {
        var members = [#""id":"\#(id)""#, #""occurred_at":"2026-03-01T10:00:00Z""#, #""customer_id":"c1""#, #""kind":"payment""#]
        var customer: [String] = []
        if let phone { customer.append(#""phone_number":"\#(phone)""#) }
        if let enrolled { customer.append(#""enrolled_at":"\#(enrolled)""#) }
        if !customer.isEmpty { members.append(#""customer":{\#(customer.joined(separator: ","))}"#) }
        if let telco { members.append(#""telco":\#(telco)"#) }
        return try! Event.decode(jsonLine: Array("{\(members.joined(separator: ","))}".utf8))
    }

    static let now = Timestamp(rfc3339: "2026-03-01T10:00:00Z")!
}

/// AsyncHTTPClient's process-wide client.
let sharedHTTP = HTTPClient.shared
