import BotCore

/// The shipped packs' platforms, for tests that do not load the packs themselves (a test that does reads the pack's).
extension Platform {
    public static let woocommerce = Platform("woocommerce", displayName: "WooCommerce")
    public static let magento = Platform("magento", displayName: "Magento")
}
