//! The page's side of the worker: starts it (`worker.js`), holds questions until it says it is
//! ready, matches each answer to its question, and when the worker dies — a panic it reports,
//! an error event, or the user stopping a long analysis — fails the open questions, tells the
//! page and starts a fresh worker, so the next question is answered.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{Answer, Ask, Envelope, Message};

type Then = Box<dyn FnOnce(Result<Answer, String>)>;
type OnDeath = Rc<dyn Fn(String)>;
type Handler = Closure<dyn FnMut(web_sys::Event)>;

/// One running worker and what is asked of it.
struct Client {
    worker: RefCell<Option<web_sys::Worker>>,
    ready: Cell<bool>,
    /// Questions asked before the worker was ready.
    queue: RefCell<Vec<web_sys::js_sys::Array>>,
    pending: RefCell<HashMap<u64, Then>>,
    next: Cell<u64>,
    /// What the worker said when it panicked, before it died.
    last_words: RefCell<Option<String>>,
    on_death: RefCell<Option<OnDeath>>,
    /// The event handlers of the current worker, kept alive with it.
    handlers: RefCell<Vec<Handler>>,
}

thread_local! {
    static CLIENT: Rc<Client> = Rc::new(Client {
        worker: RefCell::new(None),
        ready: Cell::new(false),
        queue: RefCell::new(Vec::new()),
        pending: RefCell::new(HashMap::new()),
        next: Cell::new(1),
        last_words: RefCell::new(None),
        on_death: RefCell::new(None),
        handlers: RefCell::new(Vec::new()),
    });
}

fn client() -> Rc<Client> {
    CLIENT.with(Rc::clone)
}

/// Starts the worker; `on_death` hears why, whenever one dies (a new one is already starting).
pub fn start(on_death: impl Fn(String) + 'static) {
    let c = client();
    *c.on_death.borrow_mut() = Some(Rc::new(on_death));
    spawn(&c);
}

/// Asks the worker; `text` travels beside the question (a paste, the second ruleset), so it is
/// never escaped into JSON. `then` gets the answer, or why there is none.
pub fn ask(ask: Ask, text: Option<&str>, then: impl FnOnce(Result<Answer, String>) + 'static) {
    let c = client();
    let id = c.next.get();
    c.next.set(id + 1);
    let Ok(header) = serde_json::to_string(&Envelope { id, ask }) else {
        then(Err("the question could not be written".into()));
        return;
    };
    let message = web_sys::js_sys::Array::new();
    message.push(&JsValue::from_str(&header));
    if let Some(text) = text {
        message.push(&JsValue::from_str(text));
    }
    c.pending.borrow_mut().insert(id, Box::new(then));
    if c.ready.get() {
        post(&c, &message);
    } else {
        c.queue.borrow_mut().push(message);
    }
}

/// Stops the worker (an analysis the user gave up on) and starts a new one.
pub fn restart(reason: &str) {
    die(&client(), reason.to_string());
}

fn post(c: &Client, message: &web_sys::js_sys::Array) {
    let sent = c.worker.borrow().as_ref().map(|w| w.post_message(message));
    if !matches!(sent, Some(Ok(()))) {
        die(c, "the analysis worker could not be reached".into());
    }
}

fn spawn(c: &Rc<Client>) {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = match web_sys::Worker::new_with_options("worker.js", &options) {
        Ok(w) => w,
        Err(e) => {
            let reason = format!("the analysis worker could not start: {e:?}");
            if let Some(f) = c.on_death.borrow().clone() {
                f(reason);
            }
            return;
        }
    };
    c.ready.set(false);
    *c.last_words.borrow_mut() = None;
    let me = Rc::downgrade(c);
    let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(c) = me.upgrade() else { return };
        let Some(ev) = ev.dyn_ref::<web_sys::MessageEvent>() else {
            return;
        };
        let json = ev.data().as_string().unwrap_or_default();
        match serde_json::from_str::<Message>(&json) {
            Ok(Message::Ready) => {
                c.ready.set(true);
                let queued = std::mem::take(&mut *c.queue.borrow_mut());
                for m in &queued {
                    post(&c, m);
                }
            }
            Ok(Message::Answer { id, answer }) => {
                let then = c.pending.borrow_mut().remove(&id);
                if let Some(then) = then {
                    then(Ok(*answer));
                }
            }
            Ok(Message::Died(words)) => *c.last_words.borrow_mut() = Some(words),
            Err(e) => die(
                &c,
                format!("the analysis worker sent what the page cannot read ({e})"),
            ),
        }
    });
    let me = Rc::downgrade(c);
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let Some(c) = me.upgrade() else { return };
        let words = c
            .last_words
            .borrow_mut()
            .take()
            .or_else(|| ev.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()));
        die(
            &c,
            words.unwrap_or_else(|| "the analysis worker stopped without a word".into()),
        );
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    worker.set_onmessageerror(Some(on_error.as_ref().unchecked_ref()));
    *c.worker.borrow_mut() = Some(worker);
    *c.handlers.borrow_mut() = vec![on_message, on_error];
}

/// The worker is gone: stop it for good, fail what was asked, tell the page, start afresh.
fn die(c: &Client, reason: String) {
    if let Some(w) = c.worker.borrow_mut().take() {
        w.terminate();
    }
    c.ready.set(false);
    c.queue.borrow_mut().clear();
    let pending = std::mem::take(&mut *c.pending.borrow_mut());
    // The old handlers may be running this very function: drop them later, not here.
    let handlers = std::mem::take(&mut *c.handlers.borrow_mut());
    set_timeout(move || drop(handlers), std::time::Duration::ZERO);
    CLIENT.with(spawn);
    if let Some(f) = c.on_death.borrow().clone() {
        f(reason.clone());
    }
    for (_, then) in pending {
        then(Err(reason.clone()));
    }
}

/// A value the worker computes: `make` says what to ask (reading the signals it depends on,
/// so it is asked again when they change); the newest answer, picked by `pick`, is the value.
/// `None` while waiting, or when there is nothing to ask.
pub fn asked<T>(
    make: impl Fn() -> Option<(Ask, Option<String>)> + 'static,
    pick: fn(Answer) -> Option<T>,
) -> RwSignal<Option<T>>
where
    T: Send + Sync + 'static,
{
    let out = RwSignal::new(None);
    let counter = StoredValue::new(0u64);
    let state = use_context::<crate::app::AppState>();
    Effect::new(move |_| {
        let next = counter.get_value() + 1;
        counter.set_value(next);
        // Without an analysis (none yet, or the worker died) there is nothing to show.
        let analysed = state.is_none_or(|s| s.read.with(Option::is_some));
        let Some((question, text)) = make().filter(|_| analysed) else {
            out.set(None);
            return;
        };
        ask(question, text.as_deref(), move |answer| {
            if counter.try_get_value() == Some(next) {
                let _ = out.try_set(answer.ok().and_then(pick));
            }
        });
    });
    out
}
