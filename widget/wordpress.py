"""The WordPress plugin ZIP: a one-file plugin that prints the install snippet in every `<head>`.

Built per workspace from the same snippet the settings page shows, so the admin uploads it
under Plugins > Add New > Upload Plugin and has nothing to paste.
"""

from __future__ import annotations

import io
import zipfile

FOLDER = "frontdesk-chat"
VERSION = "1.0.0"
# Fixed timestamps: the same snippet always gives the same bytes.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)

_PHP = """<?php
/**
 * Plugin Name:       Frontdesk Chat
 * Description:       Adds your frontdesk chat widget to every page of your site.
 * Version:           {version}
 * Requires at least: 5.0
 * Requires PHP:      7.0
 * Author:            frontdesk
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       frontdesk-chat
 */

if ( ! defined( 'ABSPATH' ) ) {{
	exit;
}}

// The install snippet from your frontdesk widget settings (download the plugin again there
// if your frontdesk address changes).
define( 'FRONTDESK_CHAT_SNIPPET', {snippet} );

/**
 * Prints the snippet in the page head; wp_kses lets through only a script tag with src and async.
 */
function frontdesk_chat_print_snippet() {{
	echo wp_kses(
		FRONTDESK_CHAT_SNIPPET,
		array(
			'script' => array(
				'async' => true,
				'src'   => true,
			),
		)
	) . "\\n";
}}
add_action( 'wp_head', 'frontdesk_chat_print_snippet' );
"""

_README = """=== Frontdesk Chat ===
Contributors: frontdesk
Tags: chat, live chat, receptionist, ai
Requires at least: 5.0
Tested up to: 6.7
Requires PHP: 7.0
Stable tag: {version}
License: GPLv2 or later
License URI: https://www.gnu.org/licenses/gpl-2.0.html

Adds your frontdesk chat widget to every page of your site.

== Description ==

Visitors chat with your AI receptionist and your team from any page. The plugin prints
one script tag in the page head; the chat itself loads from your frontdesk server.
Appearance and messages are set in frontdesk under Settings > Widget.

== Installation ==

1. In WordPress, go to Plugins > Add New > Upload Plugin and choose frontdesk-chat.zip.
2. Click Install Now, then Activate.
3. Open your site: the chat button appears in the corner.

If your frontdesk address changes, download the plugin again from Settings > Widget and
replace this one.
"""


def php_string(text: str) -> str:
    """A PHP single-quoted literal: only the backslash and the quote are special there."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plugin_zip(snippet: str) -> bytes:
    """The plugin archive (frontdesk-chat/frontdesk-chat.php and readme.txt) for ``snippet``."""
    files = {
        f"{FOLDER}/{FOLDER}.php": _PHP.format(version=VERSION, snippet=php_string(snippet)),
        f"{FOLDER}/readme.txt": _README.format(version=VERSION),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()
