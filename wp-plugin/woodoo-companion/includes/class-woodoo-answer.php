<?php
/**
 * The answers the plugin's signed routes (stock, flush) give: one shape for every refusal.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Route answers.
 */
final class Woodoo_Answer {

	/**
	 * A validation failure: the field path and the words, never the input itself.
	 *
	 * @param string $field   Field path.
	 * @param string $message Message.
	 * @return array
	 */
	public static function invalid( $field, $message ) {
		return array(
			'error' => $message,
			'field' => $field,
		);
	}

	/**
	 * Whole-request error: array( status, data ).
	 *
	 * @param int         $status  HTTP status.
	 * @param string      $error   Code.
	 * @param string      $message Message.
	 * @param string|null $field   Field.
	 * @return array
	 */
	public static function error( $status, $error, $message, $field = null ) {
		$data = array(
			'error'   => $error,
			'message' => $message,
		);
		if ( null !== $field ) {
			$data['field'] = $field;
		}
		return array( $status, $data );
	}
}
