<?php
/**
 * Bootstrap: wires everything once WooCommerce is known to be active.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Bootstrap.
 */
final class Woodoo_Plugin {

	/**
	 * On plugins_loaded.
	 */
	public static function load() {
		if ( ! class_exists( 'WooCommerce' ) ) {
			add_action( 'admin_notices', array( __CLASS__, 'missing_woocommerce_notice' ) );
			return;
		}
		Woodoo_Queue::maybe_install();
		self::forget_legacy_secret();
		Woodoo_Hooks::register();
		Woodoo_Stock_Route::register();
		Woodoo_Flush_Route::register();
		Woodoo_Bulk_Route::register();
		if ( is_admin() ) {
			Woodoo_Settings::register();
			add_filter( 'plugin_action_links_' . plugin_basename( WOODOO_COMPANION_FILE ), array( __CLASS__, 'action_links' ) );
		}
		add_action( 'action_scheduler_init', array( 'Woodoo_Queue', 'ensure_sweep' ) );
	}

	/**
	 * Activation: the tables (events, replay memory).
	 */
	public static function activate() {
		Woodoo_Queue::install();
		self::forget_legacy_secret();
	}

	/**
	 * Removes 0.1's single secret (woodoo_companion_secret) after the upgrade to 0.2.
	 *
	 * Not copied into either new secret: it was the same on both channels, which is what 0.2
	 * ends, and it may be shorter than 32 characters. The settings page and an admin notice ask
	 * for the two new secrets instead, and say what the daemon needs (Woodoo_Settings::REPLACED).
	 */
	public static function forget_legacy_secret() {
		if ( false !== get_option( Woodoo_Settings::LEGACY_SECRET ) ) {
			delete_option( Woodoo_Settings::LEGACY_SECRET );
			// The admin notice then says what replaced it, on the plugin's side and the daemon's.
			update_option( Woodoo_Settings::REPLACED, (string) time(), false );
		}
	}

	/**
	 * Deactivation: stops the recurring sweep (events and their actions stay; they resume on activation).
	 */
	public static function deactivate() {
		if ( function_exists( 'as_unschedule_all_actions' ) ) {
			as_unschedule_all_actions( Woodoo_Queue::SWEEP_HOOK, array(), Woodoo_Queue::GROUP );
		}
	}

	/**
	 * Admin notice without WooCommerce.
	 */
	public static function missing_woocommerce_notice() {
		if ( current_user_can( 'activate_plugins' ) ) {
			echo '<div class="notice notice-error"><p>' . esc_html__( 'Woodoo Companion needs WooCommerce 8 or later to be installed and active.', 'woodoo-companion' ) . '</p></div>';
		}
	}

	/**
	 * "Settings" link on the plugins screen.
	 *
	 * @param array $links Links.
	 * @return array
	 */
	public static function action_links( $links ) {
		array_unshift( $links, '<a href="' . esc_url( admin_url( 'admin.php?page=wc-settings&tab=' . Woodoo_Settings::TAB ) ) . '">' . esc_html__( 'Settings', 'woodoo-companion' ) . '</a>' );
		return $links;
	}
}
