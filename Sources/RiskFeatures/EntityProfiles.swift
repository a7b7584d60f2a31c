import DequeModule
import Dispatch
import RiskContract

/// The history that entity aggregates read: per key, the recent events and what labels said
/// about them.
///
/// Point in time: ``values(for:)`` answers as of the event's `occurred_at`, from events observed
/// before it (``observe(_:)-(ParsedEvent)``) within each window, and from label versions whose
/// `reported_at` is at least each feature's delay before the event. Events are meant to be
/// observed in time order, as training sets are; labels can be given at any time (all at once for
/// a training set, one by one when live) and take effect only once they were known. Live scoring
/// may record an event after a later one (two threads at once, a batch of older events): it is
/// placed in time order in its windows, so it leaves them on time, but its own values include
/// the later events already recorded.
public struct EntityProfiles: Sendable {
    /// The keys of one key path (`customer_id`, `device.id`), shared by every aggregate over that
    /// path: an event's key is hashed once per path, not once per aggregate.
    private struct KeyGroup: Sendable {
        var reader: FieldReader
        var index: [String: Int] = [:]

        func lookup(_ parsed: ParsedEvent) -> (text: String?, index: Int?) {
            guard let text = Slot.key(reader.read(parsed)) else { return (nil, nil) }
            return (text, index[text])
        }

        /// The key's index, created on first sight; `nil` when the event has no such key.
        mutating func index(of parsed: ParsedEvent) -> Int? {
            let (text, found) = lookup(parsed)
            guard let text else { return nil }
            if let found { return found }
            index[text] = index.count
            return index.count - 1
        }
    }

    private var slots: [Slot]
    private var groups: [KeyGroup]
    private let groupOfSlot: [Int]

    init(_ plans: [AggregatePlan]) {
        slots = plans.map(Slot.init)
        var paths: [String] = []
        groupOfSlot = plans.map { plan in
            if let existing = paths.firstIndex(of: plan.keyPath) { return existing }
            paths.append(plan.keyPath)
            return paths.count - 1
        }
        groups = paths.map { KeyGroup(reader: FieldReader($0)) }
    }

    /// The value of every aggregate feature for `parsed`, as of its time.
    public mutating func values(for parsed: ParsedEvent) -> [Double] {
        guard let now = parsed.time?.millisecondsSinceEpoch else { return emptyValues }
        let keys = groups.map { $0.lookup(parsed) }
        return slots.indices.map { index in
            let key = keys[groupOfSlot[index]]
            return slots[index].value(parsed, hasKey: key.text != nil, key: key.index, now: now)
        }
    }

    /// ``values(for:)`` then ``observe(_:)-(ParsedEvent)`` in one step (each key hashed once per
    /// key path): the live scoring path.
    public mutating func record(_ parsed: ParsedEvent) -> [Double] {
        [Double](unsafeUninitializedCapacity: slots.count) { values, initialized in
            values.initialize(repeating: 0)
            record(parsed, into: values)
            initialized = values.count
        }
    }

    /// ``record(_:)`` written into `values`, one per aggregate: the allocation-free path of a
    /// scorer that keeps its buffers on the stack.
    public mutating func record(_ parsed: ParsedEvent, into values: UnsafeMutableBufferPointer<Double>) {
        precondition(values.count == slots.count, "one value per aggregate")
        guard let now = parsed.time?.millisecondsSinceEpoch else {
            for index in slots.indices { values[index] = slots[index].empty }
            return
        }
        withUnsafeTemporaryAllocation(of: Int?.self, capacity: groups.count) { keys in
            for group in groups.indices { (keys.baseAddress! + group).initialize(to: groups[group].index(of: parsed)) }
            for index in slots.indices { values[index] = slots[index].record(parsed, key: keys[groupOfSlot[index]], now: now) }
        }
    }

    /// For each event of a stream in turn, every aggregate as of its time, then the event is
    /// recorded: row-major, `events.count × aggregates`. The same as ``values(for:)`` and
    /// ``observe(_:)-(ParsedEvent)`` event by event, with the aggregates (which are independent of
    /// each other once the keys are indexed) computed on all cores.
    public mutating func history(for events: [ParsedEvent]) -> [Double] {
        let width = slots.count
        // The keys first (they are shared between aggregates), each key path in order on its own
        // core: -1 for no key.
        let keys = [[Int]](unsafeUninitializedCapacity: groups.count) { keys, initialized in
            groups.withUnsafeMutableBufferPointer { groups in
                // Safe to share: path `group` touches only group `group` and element `group`.
                nonisolated(unsafe) let (groups, keys) = (groups, keys)
                DispatchQueue.concurrentPerform(iterations: groups.count) { group in
                    (keys.baseAddress! + group).initialize(to: events.indices.map { groups[group].index(of: events[$0]) ?? -1 })
                }
            }
            initialized = groups.count
        }
        let groupOfSlot = groupOfSlot
        // The slowest aggregates start first, so that no core is left with one alone at the end.
        let order = slots.indices.sorted { slots[$0].cost > slots[$1].cost }
        if let first = events.first?.time, let last = events.last?.time {
            for index in slots.indices {
                slots[index].reserve(events: events.count, spanning: last.millisecondsSinceEpoch - first.millisecondsSinceEpoch)
            }
        }
        var output = [Double](repeating: 0, count: events.count * width)
        output.withUnsafeMutableBufferPointer { output in
            slots.withUnsafeMutableBufferPointer { slots in
                // Safe to share: aggregate `index` touches only slot `index` and output column `index`,
                // and both buffers outlive `concurrentPerform`, which returns when all are done.
                nonisolated(unsafe) let slots = slots
                nonisolated(unsafe) let output = output
                DispatchQueue.concurrentPerform(iterations: width) { position in
                    let index = order[position]
                    let keys = keys[groupOfSlot[index]]
                    // By index: iterating the array would copy every event.
                    for row in events.indices {
                        if let now = events[row].time?.millisecondsSinceEpoch {
                            let key = keys[row] >= 0 ? keys[row] : nil
                            output[row * width + index] = slots[index].record(events[row], key: key, now: now)
                        } else {
                            output[row * width + index] = slots[index].empty
                        }
                    }
                }
            }
        }
        return output
    }

    /// Entries (distinct instants) of one key an aggregate keeps at most; the oldest beyond it are dropped.
    public static let maximumEventsPerKey = 10_000

    /// What each aggregate reads with no history.
    var emptyValues: [Double] { slots.map(\.empty) }

    /// Records an event (after its own vector was computed); a record without a time is not history.
    public mutating func observe(_ parsed: ParsedEvent) {
        guard parsed.time != nil else { return }
        let keys = groups.indices.map { groups[$0].index(of: parsed) }
        for index in slots.indices { slots[index].observe(parsed, key: keys[groupOfSlot[index]]) }
    }

    /// Records a label version; it counts for events scored at or after its `reported_at` plus
    /// each feature's delay.
    public mutating func observe(_ label: Label) {
        for index in slots.indices { slots[index].enqueue(label) }
    }
}

/// An aggregate or fraud-rate feature, compiled.
struct AggregatePlan: Sendable {
    enum Measure: Sendable {
        case count, sum, mean, std, min, max, distinctCount
        case fraudRate(delay: Int64, priorRate: Double, priorWeight: Double)
    }

    /// Whether events of one instant can share an entry: not for a spread, minimum or maximum,
    /// which need each value.
    var mergesEntries: Bool {
        switch measure {
        case .std, .min, .max: false
        default: true
        }
    }

    /// The key's dotted path; aggregates over the same path share one key index.
    var keyPath: String
    /// What the aggregate computes, in one string (key, measure, field, window, kinds, whether it
    /// counts its event): two features with the same identity (a number and its bins) share one
    /// slot of history.
    var identity: String
    var field: FieldReader?
    var measure: Measure
    var window: Int64
    var kinds: [String]?
    /// Whether the event itself counts in its own value.
    var includeCurrent: Bool

    /// Whether the value of a key with nothing in its window is NaN (no history: a mean, spread,
    /// minimum or maximum of nothing), which a plain aggregate column reads as 0 and a ratio or
    /// a bin as unknown.
    var isUndefinedWhenEmpty: Bool {
        switch measure {
        case .mean, .std, .min, .max: true
        default: false
        }
    }

    init(_ feature: Feature, at: String) throws(ContractError) {
        guard let key = feature.key else { throw .missingField(field: "\(at).key") }
        keyPath = key
        identity = [
            key, feature.kind.rawValue, feature.function?.rawValue ?? "", feature.field ?? "", "\(feature.windowHours ?? 0)",
            feature.eventKinds?.joined(separator: ",") ?? "*", "\(feature.includeCurrent ?? false)", "\(feature.labelDelayHours ?? 0)",
            "\(feature.priorRate ?? 0.01)", "\(feature.priorWeight ?? 1)",
        ].joined(separator: "|")
        guard let hours = feature.windowHours else { throw .missingField(field: "\(at).window_hours") }
        guard hours > 0, hours.isFinite else {
            throw .invalidValue(field: "\(at).window_hours", value: "\(hours)", reason: "must be a positive number of hours")
        }
        window = Int64((hours * 3_600_000).rounded())
        if let kinds = feature.eventKinds {
            for kind in kinds where EventKind(rawValue: kind) == nil {
                throw .invalidValue(
                    field: "\(at).event_kinds", value: "\"\(kind)\"",
                    reason: "must be event kinds (\(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self.kinds = kinds
        }
        includeCurrent = feature.includeCurrent ?? false
        if feature.kind == .fraudRate {
            guard !includeCurrent else {
                throw .invalidValue(
                    field: "\(at).include_current", value: "true",
                    reason: "a fraud rate cannot count its own event: its label is not known yet")
            }
            let delay = feature.labelDelayHours ?? 0
            let priorRate = feature.priorRate ?? 0.01, priorWeight = feature.priorWeight ?? 1
            guard delay >= 0, delay.isFinite else {
                throw .invalidValue(field: "\(at).label_delay_hours", value: "\(delay)", reason: "must be zero or more hours")
            }
            guard (0...1).contains(priorRate) else {
                throw .invalidValue(field: "\(at).prior_rate", value: "\(priorRate)", reason: "must be between 0 and 1")
            }
            guard priorWeight > 0, priorWeight.isFinite else {
                throw .invalidValue(field: "\(at).prior_weight", value: "\(priorWeight)", reason: "must be positive")
            }
            measure = .fraudRate(delay: Int64((delay * 3_600_000).rounded()), priorRate: priorRate, priorWeight: priorWeight)
            return
        }
        guard let function = feature.function else { throw .missingField(field: "\(at).function") }
        switch function {
        case .count: measure = .count
        case .sum: measure = .sum
        case .mean: measure = .mean
        case .std: measure = .std
        case .min: measure = .min
        case .max: measure = .max
        case .distinctCount: measure = .distinctCount
        }
        if function != .count {
            guard let field = feature.field else { throw .missingField(field: "\(at).field") }
            self.field = FieldReader(field)
        }
    }
}

/// One aggregate's state.
private struct Slot: Sendable {
    /// Events of one key at one instant (merged when the measure allows it).
    struct Entry: Sendable {
        var time: Int64
        /// How many events the entry stands for.
        var events: Int
        var value: Double
        var token: String?
        /// Only fraud rates need it (to apply labels); empty otherwise, to save memory.
        var eventId: String
    }

    struct Window: Sendable {
        var entries = Deque<Entry>()
        var count = 0
        var sum = 0.0
        var distinct: [String: Int] = [:]
        var fraud = 0
        var genuine = 0
    }

    /// A label version once known: which event, what, and when it was reported.
    struct Known: Sendable {
        var fraud: Bool
        var reportedAt: Int64
    }

    /// An event in some window (fraud rate only): its key's index and the label version in
    /// effect. One table for both, so that each event and label costs one lookup, not two.
    struct Member: Sendable {
        var key: Int
        var known: Known?
    }

    let plan: AggregatePlan
    /// Each key's window, by the key's index in its key path's group (grown as keys appear).
    var windows: [Window] = []
    /// Events in some window, by event id (fraud rate only).
    var members: [String: Member] = [:]
    /// Label versions not yet known, ordered by the time they become known.
    var pending = Deque<Label>()

    init(_ plan: AggregatePlan) {
        self.plan = plan
    }

    mutating func enqueue(_ label: Label) {
        guard case .fraudRate = plan.measure else { return }
        // Keep `pending` ordered by report time; labels usually arrive in order.
        var index = pending.endIndex
        while index > pending.startIndex, pending[index - 1].reportedAt > label.reportedAt { index -= 1 }
        pending.insert(label, at: index)
    }

    /// Makes room in the fraud rate's table for the events of a stream about to be recorded
    /// (`events` of them over `span` milliseconds): about as many as one window holds, so that
    /// the table does not grow step by step, rehashing every id each time (an eighth of the
    /// history pass of a batch into an empty history).
    mutating func reserve(events: Int, spanning span: Int64) {
        guard case .fraudRate = plan.measure, events > 0 else { return }
        let share = span <= plan.window ? 1 : Double(plan.window) / Double(span)
        members.reserveCapacity(members.count + Int((Double(events) * share * 1.1).rounded(.up)))
    }

    /// How long the aggregate takes per event, roughly, to schedule the slowest first: fraud
    /// rates track every event and label by id, distinct counts hash a token, the rest add.
    var cost: Int {
        switch plan.measure {
        case .fraudRate: 2
        case .distinctCount, .std, .min, .max: 1
        case .count, .sum, .mean: 0
        }
    }

    /// The value with no history: 0, the prior for a fraud rate, NaN for a mean, spread,
    /// minimum or maximum.
    var empty: Double {
        if case .fraudRate(_, let priorRate, _) = plan.measure { return priorRate }
        return plan.isUndefinedWhenEmpty ? .nan : 0
    }

    /// The value for `parsed` with key `key` (`hasKey` false: the event has none; `key` nil: a
    /// key never recorded), without recording it.
    mutating func value(_ parsed: ParsedEvent, hasKey: Bool, key: Int?, now: Int64) -> Double {
        guard hasKey else { return empty }
        applyKnownLabels(now: now)
        return measure(key: key, now: now, adding: plan.includeCurrent ? entry(for: parsed) : nil)
    }

    mutating func observe(_ parsed: ParsedEvent, key: Int?) {
        guard let key, let entry = entry(for: parsed) else { return }
        insert(entry, key: key)
    }

    /// ``value(hasKey:key:now:)`` then ``observe(_:key:)``; `key` is `nil` when the event has no key.
    mutating func record(_ parsed: ParsedEvent, key: Int?, now: Int64) -> Double {
        guard let key else { return empty }
        applyKnownLabels(now: now)
        let entry = entry(for: parsed)
        let value = measure(key: key, now: now, adding: plan.includeCurrent ? entry : nil)
        if let entry { insert(entry, key: key) }
        return value
    }

    /// The aggregate over `key`'s window as of `now` (`nil`, or a key with no window yet: an
    /// empty one), with `extra` counted as if it were in it (the event itself, for
    /// `include_current`).
    private mutating func measure(key: Int?, now: Int64, adding extra: Entry?) -> Double {
        var count = 0, sum = 0.0, distinct = 0
        let window = key.flatMap { $0 < windows.count ? $0 : nil }
        if let key = window {
            expire(key: key, now: now)
            count = windows[key].count
            sum = windows[key].sum
            distinct = windows[key].distinct.count
            if case .fraudRate(_, let priorRate, let priorWeight) = plan.measure {
                let labelled = windows[key].fraud + windows[key].genuine
                return (Double(windows[key].fraud) + priorWeight * priorRate) / (Double(labelled) + priorWeight)
            }
            if let token = extra?.token, windows[key].distinct[token] == nil { distinct += 1 }
        } else {
            if case .fraudRate = plan.measure { return empty }
            if extra?.token != nil { distinct = 1 }
        }
        if let extra {
            count += extra.events
            sum += extra.value
        }
        switch plan.measure {
        case .count: return Double(count)
        case .sum: return sum
        case .distinctCount: return Double(distinct)
        case .fraudRate: return empty
        case _ where count == 0: return .nan
        case .mean: return sum / Double(count)
        case .std, .min, .max:
            // From each value in the window (these entries are never merged), with no copy of
            // them: a spread from running sums of squares loses its digits when the values are
            // close together, so it takes a second pass around the mean.
            let first = extra?.value
            var low = first ?? .infinity, high = first ?? -.infinity, total = first ?? 0
            let entries = window.map { windows[$0].entries.count } ?? 0
            if let key = window {
                // By index: iterating would copy the window.
                for index in 0..<entries {
                    let value = windows[key].entries[index].value
                    low = Swift.min(low, value)
                    high = Swift.max(high, value)
                    total += value
                }
            }
            if case .min = plan.measure { return low }
            if case .max = plan.measure { return high }
            let n = Double(entries + (first == nil ? 0 : 1)), mean = total / n
            var squares = first.map { ($0 - mean) * ($0 - mean) } ?? 0
            if let key = window {
                for index in 0..<entries {
                    let deviation = windows[key].entries[index].value - mean
                    squares += deviation * deviation
                }
            }
            return (squares / n).squareRoot()
        }
    }

    /// What `parsed` adds to a window, or `nil` when it does not count (another kind, no time,
    /// no value).
    private func entry(for parsed: ParsedEvent) -> Entry? {
        if let kinds = plan.kinds {
            let kind = parsed.event?.kind.rawValue ?? Self.key(FieldReader.kind.read(parsed))
            guard let kind, kinds.contains(kind) else { return nil }
        }
        guard let time = parsed.time else { return nil }
        var entry = Entry(time: time.millisecondsSinceEpoch, events: 1, value: 0, token: nil, eventId: "")
        switch plan.measure {
        case .sum, .mean, .std, .min, .max:
            guard let value = plan.field.flatMap({ FeatureExtractor.number($0.read(parsed)) }) else { return nil }
            entry.value = value
        case .distinctCount:
            guard let token = plan.field.flatMap({ Self.key($0.read(parsed)) }) else { return nil }
            entry.token = token
        case .count:
            break
        case .fraudRate:
            entry.eventId = parsed.id ?? ""
        }
        return entry
    }

    private mutating func insert(_ entry: Entry, key index: Int) {
        if index >= windows.count { windows.append(contentsOf: repeatElement(Window(), count: index + 1 - windows.count)) }
        windows[index].add(entry, merging: plan.mergesEntries)
        if case .fraudRate = plan.measure, let known = members.updateValue(Member(key: index), forKey: entry.eventId)?.known {
            // An id seen again keeps the label version it had (`members[id, default:]` to do
            // this in one step cost 700 instructions an event more).
            members[entry.eventId]?.known = known
        }
        // A bound on memory: beyond this many events of one key in a window, the oldest go
        // (a key that busy — a shared device, a mule payee — is an outlier either way).
        if windows[index].entries.count > EntityProfiles.maximumEventsPerKey {
            drop(key: index, through: windows[index].entries.first!.time)
        }
    }

    /// Applies the label versions known by `now` minus the delay.
    private mutating func applyKnownLabels(now: Int64) {
        guard case .fraudRate(let delay, _, _) = plan.measure else { return }
        while let next = pending.first, next.reportedAt.millisecondsSinceEpoch <= now - delay {
            pending.removeFirst()
            apply(next)
        }
    }

    /// A label version becomes known: it replaces an older version of the same event.
    private mutating func apply(_ label: Label) {
        guard let position = members.index(forKey: label.eventId) else { return }
        let key = members.values[position].key
        let reported = label.reportedAt.millisecondsSinceEpoch
        if let previous = members.values[position].known {
            guard reported >= previous.reportedAt else { return }
            windows[key].adjust(fraud: previous.fraud, by: -1)
        }
        members.values[position].known = Known(fraud: label.outcome == .fraud, reportedAt: reported)
        windows[key].adjust(fraud: label.outcome == .fraud, by: 1)
    }

    /// Drops entries older than the window.
    private mutating func expire(key: Int, now: Int64) {
        let oldest = now - plan.window
        guard let first = windows[key].entries.first, first.time < oldest else { return }
        drop(key: key, before: oldest)
    }

    /// Drops the oldest entry of a key that went over the bound.
    private mutating func drop(key: Int, through time: Int64) {
        guard let entry = windows[key].removeOldest(before: time + 1) else { return }
        forget(entry, key: key)
    }

    private mutating func drop(key: Int, before oldest: Int64) {
        while let entry = windows[key].removeOldest(before: oldest) { forget(entry, key: key) }
    }

    /// An entry left its window: its label no longer counts.
    private mutating func forget(_ entry: Entry, key: Int) {
        guard case .fraudRate = plan.measure else { return }
        if let known = members.removeValue(forKey: entry.eventId)?.known { windows[key].adjust(fraud: known.fraud, by: -1) }
    }

    static func key(_ value: FieldValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number): FeatureExtractor.Discrete.text(number)
        case .bool(let flag): flag ? "true" : "false"
        case .time(let time): time.rfc3339
        default: nil
        }
    }
}

fileprivate extension Slot.Window {
    mutating func adjust(fraud: Bool, by delta: Int) {
        if fraud { self.fraud += delta } else { genuine += delta }
    }

    /// Adds `entry`; with `merging`, into the last entry when nothing tells them apart.
    mutating func add(_ entry: Slot.Entry, merging: Bool) {
        count += entry.events
        sum += entry.value
        if let token = entry.token { distinct[token, default: 0] += 1 }
        if !entries.isEmpty {
            // Read in place: binding `entries.last` would copy the entry and its strings.
            let last = entries.count - 1
            // An event recorded after a later one (two threads scoring at once, a batch of older
            // events) goes in time order, so that the oldest entry is still the first to leave.
            if entries[last].time > entry.time {
                var index = last
                while index > 0, entries[index - 1].time > entry.time { index -= 1 }
                entries.insert(entry, at: index)
                return
            }
            // Events at the same instant share an entry when nothing tells them apart.
            if merging, entry.eventId.isEmpty, entries[last].time == entry.time, entries[last].token == entry.token,
                entries[last].eventId.isEmpty
            {
                entries[last].events += entry.events
                entries[last].value += entry.value
                return
            }
        }
        entries.append(entry)
    }

    /// Removes and returns the oldest entry if it is older than `oldest`.
    mutating func removeOldest(before oldest: Int64) -> Slot.Entry? {
        guard let entry = entries.first, entry.time < oldest else { return nil }
        entries.removeFirst()
        count -= entry.events
        sum -= entry.value
        if let token = entry.token, let position = distinct.index(forKey: token) {
            distinct.values[position] -= entry.events
            if distinct.values[position] <= 0 { distinct.remove(at: position) }
        }
        // A running sum drifts with rounding; an empty window starts again from zero.
        if entries.isEmpty { sum = 0 }
        return entry
    }
}
