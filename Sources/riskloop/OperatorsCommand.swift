import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import RiskContract
import RiskSignals

extension RiskLoop {
    /// `riskloop operators`: what RiskLoop asks of the mobile operators a configuration names.
    struct OperatorsCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "operators", abstract: "Work with the mobile operators an operator configuration names (docs/operators.md).",
            subcommands: [Subscribe.self])

        struct Subscribe: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Subscribe to the SIM swap, roaming and reachability events of lines, to be pushed to the server's POST /v1/telco/notifications.",
                discussion: """
                    Each line is subscribed at its operator for every API the operator offers that has a subscription API \
                    (sim_swap, roaming, reachability), with a sink token (the configuration's notifications.secret_file) \
                    valid until the subscription ends. While a line is covered, the server keeps its answers until then \
                    and applies each pushed change.
                    """)

            @Option(help: ArgumentHelp("The operator configuration (with a notifications member).", valueName: "operators.json"))
            var operators: String

            @Option(help: ArgumentHelp("The lines to subscribe: one E.164 number a line.", valueName: "numbers.txt"))
            var numbers: String

            @Option(help: ArgumentHelp("How long the subscriptions last, in days.", valueName: "N"))
            var days = 30.0

            @Flag(help: "Print the subscriptions as a JSON array.")
            var json = false

            func validate() throws {
                guard days > 0, days <= 366 else { throw ValidationError("--days must be above 0 and at most 366") }
            }

            func run() async throws {
                let configuration = try CLIError.mapping { try OperatorConfiguration.read(from: URL(filePath: operators)) }
                guard let notifications = configuration.notifications else {
                    throw CLIError.fail(
                        "\(operators): no \"notifications\" member: the secret of the sink tokens and the server's sink URL are needed",
                        status: CLIError.badInput)
                }
                let text: String
                do {
                    text = try String(contentsOfFile: numbers, encoding: .utf8)
                } catch {
                    throw CLIError.fail("cannot read \(numbers): \(error.localizedDescription)", status: CLIError.cannotRead)
                }
                var lines: [String] = []
                for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let number = line.trimmingCharacters(in: .whitespaces)
                    if number.isEmpty { continue }
                    guard PhoneNumber.isE164(number) else {
                        throw CLIError.fail("\(numbers):\(index + 1): '\(number)' is not an E.164 number", status: CLIError.badInput)
                    }
                    lines.append(number)
                }
                if lines.isEmpty { throw CLIError.emptyInput(numbers) }
                let sink = await SinkCredentials(secret: notifications.secret)
                let expires = Date().addingTimeInterval(days * 86_400)
                let expiry = Timestamp(millisecondsSinceEpoch: Int64(expires.timeIntervalSince1970 * 1000))
                var clients: [String: OperatorClient] = [:]
                var created: [Subscription] = []
                var failed = 0
                for number in lines {
                    guard let route = configuration.route(number) else {
                        FileHandle.standardError.write(Data("\(number): no configured operator serves it\n".utf8))
                        failed += 1
                        continue
                    }
                    if clients[route.name] == nil {
                        clients[route.name] = try CLIError.mapping { try OperatorClient(route, http: .shared) }
                    }
                    let apis = Set(route.apis.keys).filter { OperatorConfiguration.subscriptionAPIs[$0] != nil }
                    for api in apis.sorted() {
                        let token = try await sink.issue(phoneNumber: number, operatorName: route.name, apis: [api], expires: expires)
                        let result = await clients[route.name]!.subscribe(
                            api, phoneNumber: number, sink: notifications.sinkURL, sinkToken: token, expires: expiry,
                            deadline: .now() + .seconds(30))
                        switch result {
                        case .success(let subscription): created.append(subscription)
                        case .failure(let failure):
                            FileHandle.standardError.write(Data("\(number) \(api.rawValue) at \(route.name): \(failure.reason)\n".utf8))
                            failed += 1
                        }
                    }
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    print(String(decoding: try encoder.encode(created), as: UTF8.self))
                } else {
                    for subscription in created {
                        print(
                            "\(subscription.phoneNumber)  \(subscription.api.rawValue)  \(subscription.operatorName)  \(subscription.id)  \(subscription.status)  until \(subscription.expiresAt ?? "?")"
                        )
                    }
                    print("\(created.count) subscriptions created, \(failed) refused")
                }
                if failed > 0 { throw ExitCode(CLIError.badInput) }
            }
        }
    }
}
