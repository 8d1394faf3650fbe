/// An open-addressing table from an already well-mixed 64-bit hash (`FastHash`) to a slot number, or a set of such
/// hashes: one multiply-free probe sequence, no second hashing. The one-pass counters of a log use it instead of
/// `Dictionary`, whose SipHash of each key costs as much as parsing the line.
struct HashIndex {
    private var keys: [UInt64]
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// 0 marks an empty place: a hash of 0 is stored as 1.
    @inline(__always)
    private static func key(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

    /// The value stored for `hash`, or nil.
    @inline(__always)
    func value(_ hash: UInt64) -> Int32? {
        let key = Self.key(hash)
        var index = Int(truncatingIfNeeded: key) & mask
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let found = keys[index]
                if found == key { return values[index] }
                if found == 0 { return nil }
                index = (index + 1) & mask
            }
        }
    }

    /// Stores `value` for `hash` (which is not there yet).
    @inline(__always)
    mutating func insert(_ hash: UInt64, _ value: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = Self.key(hash)
        var index = Int(truncatingIfNeeded: key) & mask
        while keys[index] != 0 && keys[index] != key { index = (index + 1) & mask }
        if keys[index] == 0 { count += 1 }
        keys[index] = key
        values[index] = value
    }

    /// Adds `hash` to the set; whether it was new.
    @inline(__always)
    @discardableResult
    mutating func add(_ hash: UInt64) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        let key = Self.key(hash)
        var index = Int(truncatingIfNeeded: key) & mask
        while true {
            let found = keys[index]
            if found == key { return false }
            if found == 0 { break }
            index = (index + 1) & mask
        }
        keys[index] = key
        count += 1
        return true
    }

    /// Every stored hash with its value.
    func forEach(_ body: (UInt64, Int32) -> Void) {
        for index in keys.indices where keys[index] != 0 { body(keys[index], values[index]) }
    }

    private mutating func grow() {
        let old = (keys, values)
        let size = keys.count * 2
        keys = [UInt64](repeating: 0, count: size)
        values = [Int32](repeating: 0, count: size)
        mask = size - 1
        count = 0
        for index in old.0.indices where old.0[index] != 0 {
            var slot = Int(truncatingIfNeeded: old.0[index]) & mask
            while keys[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = old.0[index]
            values[slot] = old.1[index]
            count += 1
        }
    }
}
