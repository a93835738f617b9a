<?php
/**
 * WooCommerce > Settings > Woodoo: daemon URL, secret, test button, events waiting.
 *
 * WOODOO_DAEMON_URL / WOODOO_SECRET in wp-config.php win over the stored options and make the
 * fields read-only. The secret is never written back into the page.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Settings.
 */
final class Woodoo_Settings {

	const TAB        = 'woodoo';
	const URL_OPTION = 'woodoo_companion_daemon_url';
	const SECRET     = 'woodoo_companion_secret';
	const TEST       = 'woodoo_companion_test';
	const RESULT     = 'woodoo_companion_test_result';

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_filter( 'woocommerce_settings_tabs_array', array( __CLASS__, 'add_tab' ), 50 );
		add_action( 'woocommerce_settings_tabs_' . self::TAB, array( __CLASS__, 'render' ) );
		add_action( 'woocommerce_update_options_' . self::TAB, array( __CLASS__, 'save' ) );
		add_action( 'woocommerce_admin_field_woodoo_secret', array( __CLASS__, 'render_secret' ) );
		add_action( 'woocommerce_admin_field_woodoo_status', array( __CLASS__, 'render_status' ) );
		add_filter( 'woocommerce_admin_settings_sanitize_option_' . self::URL_OPTION, array( __CLASS__, 'sanitize_url_option' ), 10, 3 );
		add_filter( 'woocommerce_admin_settings_sanitize_option_' . self::SECRET, array( __CLASS__, 'sanitize_secret_option' ), 10, 3 );
		add_action( 'admin_post_' . self::TEST, array( __CLASS__, 'handle_test' ) );
	}

	/**
	 * The daemon's event URL (constant first).
	 *
	 * @return string
	 */
	public static function daemon_url() {
		if ( defined( 'WOODOO_DAEMON_URL' ) ) {
			$url = self::sanitize_url( (string) constant( 'WOODOO_DAEMON_URL' ) );
			return null === $url ? '' : $url;
		}
		return (string) get_option( self::URL_OPTION, '' );
	}

	/**
	 * The shared secret (constant first).
	 *
	 * @return string
	 */
	public static function secret() {
		if ( defined( 'WOODOO_SECRET' ) ) {
			return trim( (string) constant( 'WOODOO_SECRET' ) );
		}
		return (string) get_option( self::SECRET, '' );
	}

	/**
	 * A clean http(s) URL, or null when $raw is not one.
	 *
	 * @param string $raw Input.
	 * @return string|null
	 */
	public static function sanitize_url( $raw ) {
		$url = trim( (string) $raw );
		if ( '' === $url ) {
			return '';
		}
		$parts = wp_parse_url( $url );
		if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] )
			|| ! in_array( strtolower( $parts['scheme'] ), array( 'http', 'https' ), true )
			|| preg_match( '/[\s<>"\'`]/', $url ) ) {
			return null;
		}
		return esc_url_raw( $url, array( 'http', 'https' ) );
	}

	/**
	 * A secret as stored: trimmed; an empty input keeps the stored secret.
	 *
	 * @param string $raw      Input.
	 * @param string $existing Stored secret.
	 * @return string
	 */
	public static function sanitize_secret( $raw, $existing ) {
		$secret = trim( (string) $raw );
		return '' === $secret ? (string) $existing : $secret;
	}

	/**
	 * WooCommerce sanitising hook of the URL field.
	 *
	 * @param mixed $value     Sanitised by WooCommerce.
	 * @param array $option    Field.
	 * @param mixed $raw_value Posted value.
	 * @return string
	 */
	public static function sanitize_url_option( $value, $option = array(), $raw_value = null ) {
		$existing = (string) get_option( self::URL_OPTION, '' );
		if ( defined( 'WOODOO_DAEMON_URL' ) ) {
			return $existing; // Read-only: the constant wins.
		}
		$url = self::sanitize_url( null === $raw_value ? $value : $raw_value ); // WooCommerce already unslashed it.
		if ( null === $url ) {
			self::error( __( 'The daemon URL must be an http:// or https:// URL, e.g. https://woodoo.example.com/webhooks/woocommerce. The previous value is kept.', 'woodoo-companion' ) );
			return $existing;
		}
		return $url;
	}

	/**
	 * WooCommerce sanitising hook of the secret field.
	 *
	 * @param mixed $value     Sanitised by WooCommerce.
	 * @param array $option    Field.
	 * @param mixed $raw_value Posted value.
	 * @return string
	 */
	public static function sanitize_secret_option( $value, $option = array(), $raw_value = null ) {
		$existing = (string) get_option( self::SECRET, '' );
		if ( defined( 'WOODOO_SECRET' ) ) {
			return $existing;
		}
		$raw = null === $raw_value ? $value : $raw_value; // Unslashed by WooCommerce; not wc_clean()ed.
		return self::sanitize_secret( is_string( $raw ) ? $raw : '', $existing );
	}

	/**
	 * The settings fields.
	 *
	 * @return array
	 */
	public static function fields() {
		$url_locked = defined( 'WOODOO_DAEMON_URL' );
		return array(
			array(
				'title' => __( 'Woodoo', 'woodoo-companion' ),
				'type'  => 'title',
				'desc'  => __( 'Order events go to the Woodoo daemon, signed with the shared secret; the daemon writes stock back through a signed, conditional REST route (/wp-json/woodoo/v1/stock).', 'woodoo-companion' ),
				'id'    => 'woodoo_companion_section',
			),
			array(
				'title'             => __( 'Daemon URL', 'woodoo-companion' ),
				'desc'              => $url_locked ? __( 'Set by WOODOO_DAEMON_URL in wp-config.php.', 'woodoo-companion' ) : __( 'The daemon\'s order event endpoint, e.g. https://woodoo.example.com/webhooks/woocommerce', 'woodoo-companion' ),
				'id'                => self::URL_OPTION,
				'type'              => 'url',
				'default'           => '',
				'value'             => self::daemon_url(),
				'custom_attributes' => $url_locked ? array( 'readonly' => 'readonly' ) : array(),
				'css'               => 'min-width:420px;',
			),
			array(
				'title' => __( 'Secret', 'woodoo-companion' ),
				'id'    => self::SECRET,
				'type'  => 'woodoo_secret',
			),
			array(
				'title' => __( 'Status', 'woodoo-companion' ),
				'id'        => 'woodoo_companion_status',
				'type'      => 'woodoo_status',
				'is_option' => false,
			),
			array(
				'type' => 'sectionend',
				'id'   => 'woodoo_companion_section',
			),
		);
	}

	/**
	 * Adds the tab.
	 *
	 * @param array $tabs Tabs.
	 * @return array
	 */
	public static function add_tab( $tabs ) {
		$tabs[ self::TAB ] = __( 'Woodoo', 'woodoo-companion' );
		return $tabs;
	}

	/**
	 * Renders the tab.
	 */
	public static function render() {
		woocommerce_admin_fields( self::fields() );
	}

	/**
	 * Saves the tab.
	 */
	public static function save() {
		woocommerce_update_options( self::fields() );
	}

	/**
	 * The secret field: never shows the secret, only whether one is set.
	 *
	 * @param array $field Field.
	 */
	public static function render_secret( $field ) {
		echo self::secret_field_html(); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped inside.
	}

	/**
	 * HTML of the secret row (separate for tests).
	 *
	 * @return string
	 */
	public static function secret_field_html() {
		$locked = defined( 'WOODOO_SECRET' );
		$set    = '' !== self::secret();
		if ( $locked ) {
			$help = __( 'Set by WOODOO_SECRET in wp-config.php.', 'woodoo-companion' );
		} elseif ( $set ) {
			$help = __( 'A secret is set. Leave empty to keep it; type a new one to replace it. It must equal one of the daemon\'s webhooks.secrets.', 'woodoo-companion' );
		} else {
			$help = __( 'Not set. Use the same value as in the daemon\'s webhooks.secrets (e.g. openssl rand -hex 32).', 'woodoo-companion' );
		}
		return '<tr valign="top"><th scope="row" class="titledesc"><label for="' . esc_attr( self::SECRET ) . '">'
			. esc_html__( 'Secret', 'woodoo-companion' ) . '</label></th><td class="forminp">'
			. '<input type="password" autocomplete="new-password" style="min-width:420px;" name="' . esc_attr( self::SECRET ) . '" id="' . esc_attr( self::SECRET ) . '" value=""'
			. ' placeholder="' . esc_attr( $set ? '••••••••' : '' ) . '"' . ( $locked ? ' readonly="readonly" disabled="disabled"' : '' ) . ' />'
			. '<p class="description">' . esc_html( $help ) . '</p></td></tr>';
	}

	/**
	 * The status row: events waiting, the test button and the last test's answer.
	 *
	 * @param array $field Field.
	 */
	public static function render_status( $field ) {
		$waiting = Woodoo_Queue::waiting_count();
		$result  = get_transient( self::RESULT . '_' . get_current_user_id() );
		delete_transient( self::RESULT . '_' . get_current_user_id() );
		$test_url = wp_nonce_url( admin_url( 'admin-post.php?action=' . self::TEST ), self::TEST );
		echo '<tr valign="top"><th scope="row" class="titledesc">' . esc_html__( 'Status', 'woodoo-companion' ) . '</th><td class="forminp">';
		/* translators: %d: number of events. */
		echo '<p>' . esc_html( sprintf( _n( '%d event waiting for delivery.', '%d events waiting for delivery.', $waiting, 'woodoo-companion' ), $waiting ) ) . '</p>';
		echo '<p><a class="button" href="' . esc_url( $test_url ) . '">' . esc_html__( 'Send test event', 'woodoo-companion' ) . '</a></p>';
		if ( is_array( $result ) && isset( $result[1] ) ) {
			echo '<div class="notice inline ' . ( $result[0] ? 'notice-success' : 'notice-error' ) . '"><p>' . esc_html( $result[1] ) . '</p></div>';
		}
		echo '</td></tr>';
	}

	/**
	 * admin-post handler of the test button (nonce + manage_woocommerce).
	 */
	public static function handle_test() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'woodoo-companion' ), 403 );
		}
		check_admin_referer( self::TEST );
		$result = Woodoo_Sender::test();
		set_transient( self::RESULT . '_' . get_current_user_id(), $result, 300 );
		wp_safe_redirect( admin_url( 'admin.php?page=wc-settings&tab=' . self::TAB ) );
		exit;
	}

	/**
	 * Shows a settings error.
	 *
	 * @param string $message Message.
	 */
	private static function error( $message ) {
		if ( class_exists( 'WC_Admin_Settings' ) ) {
			WC_Admin_Settings::add_error( $message );
		}
	}
}
