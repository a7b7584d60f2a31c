import Foundation

/// Which BLAS library the process actually mapped (Debian's alternatives decide).
public func loadedBLAS() -> String {
    // procfs files report size 0, so read them as a stream.
    let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    let paths = Set(
        maps.split(separator: "\n").compactMap { line in line.split(separator: " ").last.map(String.init) }.filter {
            $0.contains("blas")
        })
    let resolved = paths.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: $0)).map { "\($0)" } ?? $0 }
    let all = (Array(paths) + resolved).joined(separator: " ")
    if all.contains("openblas") { return "OpenBLAS (\(paths.sorted().joined(separator: ", ")))" }
    return "netlib reference BLAS (\(paths.sorted().joined(separator: ", ")))"
}
