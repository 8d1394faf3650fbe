import Foundation

/// The e-mails a playbook may name under `notifications: email:`, sent to the store's contact after an
/// automatic run, each with the words of its subject line.
public enum CustomerMail {
    public static let automaticFixSubjects: [String: String] = [
        "automatic_fix_applied": "We fixed a problem automatically",
        "memory_optimization_applied": "We freed memory on your store",
        "disk_cleanup_applied": "We recovered disk space on your store",
        "optimize_applied": "We optimized your store",
        "query_explosion_contained": "We stopped runaway database queries",
    ]
}
