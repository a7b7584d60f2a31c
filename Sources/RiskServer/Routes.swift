import Foundation
import Hummingbird
import RiskContract
import RiskEngine
import RiskExport
import RiskFeatures
import RiskModels
import RiskScoring
import RiskSignals
import RiskStore
import ServiceLifecycle

/// Builds the router of the HTTP API (ARCHITECTURE.md §5.6), documented in `openapi.yaml`.
public func buildRouter(_ service: RiskService) -> Router<ServerContext> {
    let router = Router(context: ServerContext.self)
    let routes = KnownRoutes()
    // First, so that every answer it sees — unknown routes and 413s included — is JSON.
    router.add(middleware: ErrorBodyMiddleware(routes: routes))
    router.add(middleware: ErrorCountingMiddleware(service: service))
    router.get("/healthz") { _, _ in
        try json(service.serving)
    }
    router.get("/metrics") { _, _ in
        await service.refreshCaseMetrics()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.emitToBuffer())))
    }
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: openAPIDocument)))
    }
    // Pushed by the operators, authenticated by the sink token RiskLoop issued when subscribing
    // (not an API key: outside the key groups).
    router.post("/v1/telco/notifications") { request, context in
        // Without a token the answer is 401 whatever the server's configuration.
        let token = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token else {
            throw APIError(.unauthorized, code: "unauthenticated", message: "a sink token RiskLoop issued, not expired, is required")
        }
        guard let enricher = service.enricher, let sink = service.sinkCredentials else {
            throw APIError(
                .notFound, code: "not_found", message: "this server takes no telco notifications (no \"notifications\" in --operators)")
        }
        guard let grant = await sink.verify(token) else {
            throw APIError(.unauthorized, code: "unauthenticated", message: "a sink token RiskLoop issued, not expired, is required")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let now = RiskService.now
        do {
            let value = try JSONValue.parse(body.readableBytesView)
            try enricher.receive(try TelcoNotification(cloudEvent: value, receivedAt: now), grant: grant, at: now)
        } catch let error as ContractError {
            throw APIError(.badRequest, code: "malformed_json", message: error.reason)
        } catch NotificationError.invalid(let field, let reason) {
            throw APIError(.badRequest, code: "invalid_field", message: reason, field: field)
        } catch NotificationError.unauthenticated(let reason) {
            throw APIError(.forbidden, code: "forbidden", message: reason)
        }
        return Response(status: .noContent)
    }
    let v1 = router.group("/v1").add(middleware: APIKeyMiddleware(service: service))
    // Each route sits in the group of the role it needs.
    let scoring = v1.group().add(middleware: RoleMiddleware(role: .score))
    let labelling = v1.group().add(middleware: RoleMiddleware(role: .label))
    let admin = v1.group().add(middleware: RoleMiddleware(role: .admin))
    let reviewing = v1.group().add(middleware: RoleMiddleware(role: .analyst))
    reviewing.get("/cases") { request, _ in
        try json(["cases": try await service.cases.cases(try caseFilter(request.uri.queryParameters))])
    }
    reviewing.get("/cases/{id}") { _, context in
        let id = try caseId(context)
        do {
            return try json(try await service.cases.caseFile(id))
        } catch EngineError.store(.notFound) {
            throw APIError.unknownCase(id)
        }
    }
    reviewing.post("/cases/{id}/resolve") { request, context in
        let id = try caseId(context)
        var request = request
        let object = try parseObject(try await request.collectBody(upTo: context.maxUploadSize))
        let outcome: Outcome = try requiredWord(object, "outcome")
        guard case .string(let note)? = object["note"] else {
            throw APIError(.badRequest, code: "invalid_field", message: "expected a string: what the analyst found", field: "note")
        }
        do {
            return try json(try await service.cases.resolve(id, outcome: outcome, note: note, actor: context.actor, at: RiskService.now))
        } catch EngineError.invalidOptions(let option, let reason) {
            throw APIError(.badRequest, code: "invalid_field", message: reason, field: option)
        } catch EngineError.store(.notFound) {
            throw APIError.unknownCase(id)
        } catch EngineError.store(.conflict(let reason)) {
            throw APIError(.conflict, code: "case_resolved", message: reason, field: "id")
        }
    }
    scoring.post("/events/{id}/outcome") { request, context in
        let eventId = try context.parameters.require("id")
        var request = request
        let object = try parseObject(try await request.collectBody(upTo: context.maxUploadSize))
        let outcome: StepUpOutcome = try requiredWord(object, "step_up")
        do {
            let opened = try await service.cases.stepUpEnded(
                eventId: eventId, outcome: outcome, opensCase: service.stepUpCases.contains(outcome), at: RiskService.now)
            return try json(StepUpResponse(eventId: eventId, stepUp: outcome, reviewCase: opened))
        } catch EngineError.store(.notFound(let what)) {
            throw APIError(.notFound, code: "unknown_event", message: "no \(what)", field: "id")
        } catch EngineError.store(.conflict(let reason)) {
            throw APIError(.conflict, code: "step_up_conflict", message: reason, field: "id")
        }
    }
    scoring.post("/score") { request, context in
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let (events, single) = try parseEvents(body)
        let objects = try await service.score(events, single: single)
        let text = single ? objects[0] : #"{"scores":["# + objects.joined(separator: ",") + "]}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    labelling.post("/labels") { request, context in
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let labels = try parseLabels(body)
        let report: IngestReport
        do {
            // Every decision answered is already committed, so a label can name an event scored
            // a moment before.
            report = try await service.labels.receive(labels, source: "POST /v1/labels")
        } catch let error as StoreError {
            if case .badLine(_, let line, let field, let message, _) = error {
                // Valid in itself, but naming an event the store does not hold.
                if field == "event_id" {
                    throw APIError(.notFound, code: "unknown_event", message: message, field: "labels[\(line - 1)].event_id")
                }
                throw APIError(.badRequest, code: "invalid_label", message: message, field: "labels[\(line - 1)].\(field ?? "")")
            }
            throw error
        }
        return try json(["stored": report.inserted, "duplicates": report.duplicates])
    }
    scoring.get("/models") { _, _ in
        try json(try await service.store.models())
    }
    scoring.get("/models/{id}") { _, context in
        let id = try context.parameters.require("id")
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try await registered(service, id))))
    }
    scoring.get("/models/{id}/export") { request, context in
        let id = try context.parameters.require("id")
        let name = request.uri.queryParameters["format"].map(String.init) ?? "json"
        guard let format = ExportFormat(rawValue: name) else {
            let formats = ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, code: "invalid_format", message: "format '\(name)' is not one of \(formats)", field: "format")
        }
        let stored = try await registered(service, id)
        let artifact: ModelArtifact
        do {
            artifact = try await service.store.verifiedArtifact(id)
        } catch {
            throw APIError(.conflict, code: "invalid_model", message: "\(error)")
        }
        let policy = service.scorer.policy
        // A card reads the store (label sources, drift) and renders charts: off the cooperative threads.
        let data: Data
        do {
            data = try await OffThread.run { () async throws -> Data in
                let context =
                    format == .card
                    ? try await ModelCard.Context.fromStore(service.store, artifact: artifact, policy: policy) : ModelCard.Context()
                return try ModelExport(artifact, storedJSON: stored).data(format, card: context)
            }
        } catch EngineError.invalidOptions(_, let reason) {
            throw APIError(.unprocessableContent, code: "unsupported_format", message: reason, field: "format")
        }
        var headers: HTTPFields = [.contentType: format.mediaType]
        headers[.contentDisposition] = "attachment; filename=\"\(artifact.id).\(format.fileExtension)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    admin.post("/models/{id}/promote") { request, context in
        let id = try context.parameters.require("id")
        let reason = request.uri.queryParameters["reason"].map(String.init)
        do {
            try await service.promote(id, actor: context.actor, reason: reason)
        } catch let error as EngineError {
            switch error {
            case .store(.notFound):
                throw APIError(.notFound, code: "unknown_model", message: "no model \(id) in the registry", field: "id")
            case .model(let error):
                throw APIError(.conflict, code: "invalid_model", message: error.description)
            case .unservable(_, let reason):
                throw APIError(.conflict, code: "unservable_model", message: "model \(id) cannot score events: \(reason)")
            default:
                throw error
            }
        }
        return try json(["champion": id])
    }
    admin.post("/retrain") { request, context in
        var force = false
        if let text = request.uri.queryParameters["force"] {
            guard let flag = Bool(String(text)) else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "expected true or false (got \"\(text)\")", field: "force")
            }
            force = flag
        }
        var asOf: Timestamp?
        if let text = request.uri.queryParameters["as_of"] {
            guard let parsed = Timestamp(rfc3339: String(text)) else {
                throw APIError(
                    .badRequest, code: "invalid_parameter", message: "not an RFC 3339 date-time (got \"\(text)\")", field: "as_of")
            }
            asOf = parsed
        }
        let result: FeedbackLoop.CycleResult?
        do {
            result = try await service.retrain(force: force, asOf: asOf, actor: context.actor)
        } catch let error as EngineError {
            throw APIError(.conflict, code: "retrain_failed", message: error.description)
        }
        switch result {
        case nil:
            throw APIError(.conflict, code: "cycle_running", message: "a retraining cycle is already running in this server")
        case .skipped(let reason)?:
            return try json(RetrainResponse(outcome: "skipped", reason: reason, cycle: nil, detail: nil))
        case .ran(let cycle)?:
            return try json(
                RetrainResponse(
                    outcome: cycle.record.outcome.rawValue, reason: cycle.record.reason, cycle: cycle.record, detail: cycle.detail))
        }
    }
    admin.post("/backtests") { request, context in
        var request = request
        let object = try parseObject(try await request.collectBody(upTo: context.maxUploadSize))
        return try json(try await backtest(service, object))
    }
    // The methods of each path, for 405s: read from the router itself, so no route is left out.
    routes.record(router.routes.map { (path: $0.path.description, method: $0.method) })
    return router
}

/// The API as an application on `host:port`: runs until SIGTERM or SIGINT, then finishes the
/// requests in flight (each answers once its decisions are committed) and stops the feedback loop
/// at once.
///
/// - Parameter retrainEvery: how often the feedback loop checks its trigger (`nil`: only on
///   `POST /v1/retrain`).
public func buildApplication(
    _ service: RiskService, host: String, port: Int, retrainEvery: Duration? = nil, retentionDays: Double? = nil
) -> some ApplicationProtocol {
    var services: [any Service] = [StoreUpkeepService(service: service)]
    if let retrainEvery { services.append(FeedbackLoopService(service: service, interval: retrainEvery)) }
    if let retentionDays {
        services.append(RetentionService(service: service, retention: Retention(store: service.store, keepDays: retentionDays)))
    }
    return Application(
        router: buildRouter(service), configuration: .init(address: .hostname(host, port: port), serverName: "riskloop"),
        services: services, logger: service.logger)
}

/// What `POST /v1/events/{id}/outcome` answers: the outcome recorded and the event's case, if it has one.
struct StepUpResponse: Encodable {
    var eventId: String
    var stepUp: StepUpOutcome
    @NullEncoded var reviewCase: ReviewCase?

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case stepUp = "step_up"
        case reviewCase = "case"
    }
}

extension APIError {
    static func unknownCase(_ id: Int64) -> APIError {
        APIError(.notFound, code: "unknown_case", message: "no review case \(id)", field: "id")
    }
}

/// The case id of the path: a positive integer.
private func caseId(_ context: ServerContext) throws -> Int64 {
    let text = try context.parameters.require("id")
    guard let id = Int64(text), id > 0 else {
        throw APIError(.badRequest, code: "invalid_parameter", message: "a case id is a positive integer (got \"\(text)\")", field: "id")
    }
    return id
}

/// `GET /v1/cases`'s query: `status` (open, resolved or all; default open), `customer_id`,
/// `trigger`, `opened_from` and `opened_to` (RFC 3339), `limit` (1 to 1,000; default 100).
private func caseFilter(_ query: Parameters) throws -> CaseFilter {
    var filter = CaseFilter()
    func text(_ name: String) -> String? { query[Substring(name)].map(String.init) }
    func time(_ name: String) throws -> Timestamp? {
        guard let value = text(name) else { return nil }
        guard let time = Timestamp(rfc3339: value) else {
            throw APIError(.badRequest, code: "invalid_parameter", message: "not an RFC 3339 date-time (got \"\(value)\")", field: name)
        }
        return time
    }
    switch text("status") {
    case nil, "open": filter.status = .open
    case "resolved": filter.status = .resolved
    case "all": filter.status = nil
    case let other?:
        throw APIError(
            .badRequest, code: "invalid_parameter", message: "status is open, resolved or all (got \"\(other)\")", field: "status")
    }
    filter.customerId = text("customer_id")
    if let value = text("trigger") {
        guard let trigger = CaseTrigger(rawValue: value) else {
            let triggers = CaseTrigger.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                .badRequest, code: "invalid_parameter", message: "trigger is one of \(triggers) (got \"\(value)\")", field: "trigger")
        }
        filter.trigger = trigger
    }
    filter.openedFrom = try time("opened_from")
    filter.openedTo = try time("opened_to")
    if let value = text("limit") {
        guard let limit = Int(value), (1...1_000).contains(limit) else {
            throw APIError(
                .badRequest, code: "invalid_parameter", message: "limit is an integer from 1 to 1000 (got \"\(value)\")", field: "limit")
        }
        filter.limit = limit
    }
    return filter
}

/// `POST /v1/backtests`: the candidate and the period from the body, re-decided off the threads
/// that serve requests.
private func backtest(_ service: RiskService, _ object: JSONObject) async throws -> Backtest.Report {
    guard let from = try instant(object, "from"), let to = try instant(object, "to") else { preconditionFailure("required members") }
    let labelsKnownAt = try instant(object, "labels_known_at", required: false)
    var candidate = Backtest.Candidate()
    if let value = object["policy"], value != .null {
        guard case .string(let version) = value else {
            throw APIError(.badRequest, code: "invalid_field", message: "expected a stored decision policy's version", field: "policy")
        }
        guard let policy = try await service.store.recordedPolicy(version) else {
            throw APIError(.notFound, code: "unknown_policy", message: "no decision policy \(version) in the store", field: "policy")
        }
        candidate.policy = policy
    }
    if let value = object["model"], value != .null {
        guard case .string(let id) = value else {
            throw APIError(.badRequest, code: "invalid_field", message: "expected a registered model's id", field: "model")
        }
        let model: ServingModel
        do {
            model = try await service.store.verifiedModel(id)
        } catch .store(.notFound) {
            throw APIError(.notFound, code: "unknown_model", message: "no model \(id) in the registry", field: "model")
        } catch {
            throw APIError(.conflict, code: "invalid_model", message: error.description, field: "model")
        }
        candidate.model = model
    }
    guard candidate.model != nil || candidate.policy != nil else {
        throw APIError(.badRequest, code: "invalid_field", message: "give a model, a policy or both: the candidate", field: "policy")
    }
    let historyDays = service.loop.policy.historyDays
    let store = service.store
    let chosen = candidate
    do {
        return try await OffThread.run { () async throws(EngineError) -> Backtest.Report in
            try await Backtest(store: store, historyDays: historyDays).run(
                from: from, to: to, candidate: chosen, labelsKnownAt: labelsKnownAt)
        }
    } catch .store(.database(let message)) {
        throw StoreError.database(message: message)
    } catch {
        // A logged model that fails its checks, a policy version the store never recorded.
        throw APIError(.conflict, code: "backtest_failed", message: error.description)
    }
}

/// The RFC 3339 member `name` of `object`.
private func instant(_ object: JSONObject, _ name: String, required: Bool = true) throws -> Timestamp? {
    guard let value = object[name], value != .null else {
        if required { throw APIError(.badRequest, code: "invalid_field", message: "required: an RFC 3339 date-time", field: name) }
        return nil
    }
    guard case .string(let text) = value, let time = Timestamp(rfc3339: text) else {
        throw APIError(.badRequest, code: "invalid_field", message: "expected an RFC 3339 date-time", field: name)
    }
    return time
}

/// A request body that must be one JSON object.
private func parseObject(_ body: ByteBuffer) throws -> JSONObject {
    let value: JSONValue
    do {
        value = try JSONValue.parse(body.readableBytesView)
    } catch {
        throw APIError(.badRequest, code: "malformed_json", message: error.reason)
    }
    guard case .object(let object) = value else {
        throw APIError(.badRequest, code: "invalid_body", message: "expected a JSON object")
    }
    return object
}

/// The member `name` of `object`, one of `Word`'s values.
private func requiredWord<Word: RawRepresentable & CaseIterable>(_ object: JSONObject, _ name: String) throws -> Word
where Word.RawValue == String {
    let words = Word.allCases.map(\.rawValue).joined(separator: ", ")
    guard case .string(let text)? = object[name], let word = Word(rawValue: text) else {
        throw APIError(.badRequest, code: "invalid_field", message: "expected one of \(words)", field: name)
    }
    return word
}

/// What `POST /v1/retrain` answers.
struct RetrainResponse: Encodable {
    var outcome: String
    var reason: String
    var cycle: RetrainCycleRecord?
    var detail: FeedbackLoop.CycleDetail?
}

/// The committed OpenAPI document, served at `/openapi.yaml`.
let openAPIDocument: [UInt8] = {
    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
        return []
    }
    return Array(data)
}()

/// Counts requests that ended in an error (any status ≥ 400).
struct ErrorCountingMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let service: RiskService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            if response.status.code >= 400 { service.countError() }
            return response
        } catch {
            service.countError()
            throw error
        }
    }
}

private func registered(_ service: RiskService, _ id: String) async throws -> Data {
    do {
        return try await service.store.artifactJSON(of: id)
    } catch .notFound {
        throw APIError(.notFound, code: "unknown_model", message: "no model \(id) in the registry", field: "id")
    }
}

private func json(_ value: some Encodable) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Response(
        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}

/// An event of a request, validated, with its JSON text as received.
struct ReceivedEvent: Sendable {
    var parsed: ParsedEvent
    var payload: String
    var id: String { parsed.event!.id }
}

/// One event object, an array of them, or `{"events": [...]}`; errors name the event's position.
private func parseEvents(_ body: ByteBuffer) throws -> (events: [ReceivedEvent], single: Bool) {
    let value: JSONValue
    do {
        value = try JSONValue.parse(body.readableBytesView)
    } catch {
        throw APIError(.badRequest, code: "malformed_json", message: error.reason)
    }
    let items: [JSONValue], single: Bool, prefix: String
    switch value {
    case .array(let array): (items, single, prefix) = (array, false, "")
    case .object(let object) where object["events"] != nil:
        guard case .array(let array)? = object["events"] else {
            throw APIError(.badRequest, code: "invalid_field", message: "expected an array", field: "events")
        }
        if let other = object.members.first(where: { $0.key != "events" }) {
            throw APIError(
                .badRequest, code: "invalid_field", message: "the batch form {\"events\": [...]} holds no other member",
                field: other.key)
        }
        (items, single, prefix) = (array, false, "events")
    default: (items, single, prefix) = ([value], true, "")
    }
    guard !items.isEmpty else {
        throw APIError(.badRequest, code: "empty_batch", message: "no events to score", field: prefix.isEmpty ? nil : prefix)
    }
    guard items.count <= RiskService.maximumBatch else {
        // 400, not 413: the body may be small; it is the batch that breaks the contract.
        throw APIError(
            .badRequest, code: "batch_too_large", message: "at most \(RiskService.maximumBatch) events per call",
            field: prefix.isEmpty ? nil : prefix)
    }
    // A single event is stored exactly as sent; events of a batch as canonical JSON (sorted keys).
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (
        try items.enumerated().map { index, item in
            do {
                let event = try Event(json: item)
                let payload = single ? String(buffer: body) : String(decoding: try encoder.encode(item), as: UTF8.self)
                return ReceivedEvent(parsed: ParsedEvent(event: event, json: item), payload: payload)
            } catch let error as ContractError {
                let position = single ? "" : "\(prefix)[\(index)]"
                let field = [position, error.field ?? ""].filter { !$0.isEmpty }.joined(separator: position.isEmpty ? "" : ".")
                throw APIError(.badRequest, code: "invalid_event", message: error.reason, field: field.isEmpty ? nil : field)
            }
        }, single
    )
}

private func parseLabels(_ body: ByteBuffer) throws -> [Label] {
    let value: JSONValue
    do {
        value = try JSONValue.parse(body.readableBytesView)
    } catch {
        throw APIError(.badRequest, code: "malformed_json", message: error.reason)
    }
    let items: [JSONValue]
    if case .array(let array) = value { items = array } else { items = [value] }
    return try items.enumerated().map { index, item in
        do {
            return try Label(json: item)
        } catch let error as ContractError {
            throw APIError(
                .badRequest, code: "invalid_label", message: error.reason, field: "labels[\(index)]" + (error.field.map { ".\($0)" } ?? ""))
        }
    }
}
