//! `GET /demo`: the chat page. Where each transport is comes from the configuration
//! (`DEMO_GATEWAY_URL`, `ACTION_CABLE_PATH`), handed to the script as data attributes.

use maud::{DOCTYPE, PreEscaped, html};
use poem::handler;
use poem::web::{Data, Html};

use crate::state::AppState;

const SCRIPT: &str = include_str!("demo.js");

const STYLE: &str = r#"
body { font: 15px/1.4 system-ui, sans-serif; max-width: 720px; margin: 24px auto; padding: 0 16px; color: #222; }
h1 { font-size: 22px; }
form { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; margin: 12px 0; }
.field { display: flex; flex-direction: column; gap: 2px; }
label { font-size: 13px; color: #555; }
input, select, button { font: inherit; padding: 4px 8px; }
#status { color: #555; min-height: 1.4em; }
#status.error { color: #a00; }
#messages { list-style: none; padding: 0; border: 1px solid #ddd; border-radius: 4px; min-height: 120px; }
#messages li { padding: 6px 10px; border-bottom: 1px solid #eee; }
#messages .who { font-weight: 600; margin-right: 6px; }
#messages .when { color: #888; font-size: 12px; margin-left: 6px; }
"#;

#[handler]
pub fn show(Data(state): Data<&AppState>) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                // No favicon request (web has none to serve).
                link rel="icon" href="data:,";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "wsgw demo chat" }
                style { (PreEscaped(STYLE)) }
            }
            body data-gateway-url=(state.web.pages.demo_gateway_url)
                 data-cable-path=(state.web.cable.path) {
                h1 { "wsgw demo chat" }
                p { "Join with a name, through API Gateway (the emulator) or Action Cable (web's "
                    code { (state.web.cable.path) } "). Messages sent on either path appear on both." }
                form #join-form {
                    div.field {
                        label for="name" { "Name" }
                        input #name name="name" required maxlength="255" autocomplete="off";
                    }
                    div.field {
                        label for="path" { "Path" }
                        select #path name="path" {
                            option value="api_gateway" { "API Gateway" }
                            option value="action_cable" { "Action Cable" }
                        }
                    }
                    button #join type="submit" { "Join" }
                }
                p #status role="status" {}
                div #chat hidden {
                    form #send-form {
                        div.field {
                            label for="message" { "Message" }
                            input #message name="message" required autocomplete="off";
                        }
                        button #send type="submit" { "Send" }
                    }
                    ul #messages aria-label="Messages" {}
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    Html(page.into_string())
}
