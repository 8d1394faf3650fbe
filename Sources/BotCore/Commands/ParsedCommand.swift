import Foundation

/// A command line that matched exactly one `CommandSpec`, with typed values.
public struct ParsedCommand: Sendable, Equatable {
    public let spec: CommandSpec
    /// Positional values by argument name (repeated arguments keep every value).
    public let arguments: [String: [String]]
    /// Option values by flag name; switches map to an empty string.
    public let flags: [String: String]

    public init(spec: CommandSpec, arguments: [String: [String]], flags: [String: String]) {
        self.spec = spec
        self.arguments = arguments
        self.flags = flags
    }

    /// The command's name.
    public var name: String { spec.name }

    /// The single value of argument `name`, if given.
    public func value(_ name: String) -> String? { arguments[name]?.first }

    /// All values of a repeated argument.
    public func values(_ name: String) -> [String] { arguments[name] ?? [] }

    /// The store named by argument `name` (already validated by the parser).
    public func store(_ name: String = "store") -> StoreID? { value(name).flatMap(StoreID.init) }

    /// The integer value of argument `name`.
    public func integer(_ name: String) -> Int? { value(name).flatMap { Int($0) } }

    /// The value of option `--name`.
    public func option(_ name: String) -> String? { flags[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether switch `--name` was given.
    public func isSet(_ name: String) -> Bool { flags[name] != nil }
}
