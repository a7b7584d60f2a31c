/// A parsed JSON value as a ``ContractSource``: the reader of events whose tree is kept (for
/// fields outside the contract), of request bodies, and of every document ``ByteSource`` leaves.
struct TreeSource: ContractSource {
    var value: JSONValue

    var kind: JSONKind { value.kind }

    func skip() {}

    func bool() -> Bool {
        guard case .bool(let flag) = value else { preconditionFailure("read as a boolean: \(value.typeName)") }
        return flag
    }

    func number() -> Double {
        guard case .number(let number) = value else { preconditionFailure("read as a number: \(value.typeName)") }
        return number
    }

    func text() -> String {
        guard case .string(let text) = value else { preconditionFailure("read as a string: \(value.typeName)") }
        return text
    }

    func members(_ member: (inout TreeSource, String) throws(ContractError) -> Void) throws(ContractError) {
        guard case .object(let object) = value else { preconditionFailure("read as an object: \(value.typeName)") }
        for field in object.members {
            var source = TreeSource(value: field.value)
            try member(&source, field.key)
        }
    }

    func elements(_ element: (inout TreeSource, Int) throws(ContractError) -> Void) throws(ContractError) {
        guard case .array(let values) = value else { preconditionFailure("read as an array: \(value.typeName)") }
        for (position, value) in values.enumerated() {
            var source = TreeSource(value: value)
            try element(&source, position)
        }
    }
}

/// A record of named text cells (a CSV row) as a ``ContractSource``: an object whose members
/// are all strings, so that a label read from CSV meets the same rules, with the same messages,
/// as one read from JSON.
enum TextFieldsSource: ContractSource {
    case record([(name: String, text: String)])
    case cell(String)

    var kind: JSONKind {
        switch self {
        case .record: .object
        case .cell: .string
        }
    }

    func skip() {}

    func bool() -> Bool { preconditionFailure("a text cell read as a boolean") }

    func number() -> Double { preconditionFailure("a text cell read as a number") }

    func text() -> String {
        guard case .cell(let text) = self else { preconditionFailure("a record read as text") }
        return text
    }

    func members(_ member: (inout TextFieldsSource, String) throws(ContractError) -> Void) throws(ContractError) {
        guard case .record(let cells) = self else { preconditionFailure("a text cell read as a record") }
        for cell in cells {
            var source = TextFieldsSource.cell(cell.text)
            try member(&source, cell.name)
        }
    }

    func elements(_ element: (inout TextFieldsSource, Int) throws(ContractError) -> Void) throws(ContractError) {
        preconditionFailure("a text cell read as an array")
    }
}
