//! Typed values for the simple security headers.

macro_rules! header_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The header value.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

header_enum! {
    /// `Referrer-Policy` values (ASVS 5.0 V3.4.5).
    ReferrerPolicy {
        /// Never send a referrer (the presets' value).
        NoReferrer => "no-referrer",
        /// Only for same-origin requests.
        SameOrigin => "same-origin",
        /// Full URL same-origin, origin only cross-origin over https, nothing on downgrade.
        StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
        /// Origin only, nothing on downgrade.
        StrictOrigin => "strict-origin",
    }
}

header_enum! {
    /// `X-Frame-Options` values (legacy browsers; CSP `frame-ancestors` is the real control).
    FrameOptions {
        /// No framing at all (the presets' value).
        Deny => "DENY",
        /// Framing by the same origin only.
        SameOrigin => "SAMEORIGIN",
    }
}

header_enum! {
    /// `Cross-Origin-Opener-Policy` values (ASVS 5.0 V3.4.8).
    CrossOriginOpenerPolicy {
        /// Own browsing-context group (the presets' value).
        SameOrigin => "same-origin",
        /// Keep references to popups you open (OAuth/payment popups).
        SameOriginAllowPopups => "same-origin-allow-popups",
        /// Report-only style opt-out for pages that must be opened cross-origin.
        UnsafeNone => "unsafe-none",
    }
}

header_enum! {
    /// `Cross-Origin-Resource-Policy` values (ASVS 5.0 V3.5.8).
    CrossOriginResourcePolicy {
        /// Only this origin may embed the response (the presets' value).
        SameOrigin => "same-origin",
        /// Same site (registrable domain) may embed it.
        SameSite => "same-site",
        /// Anyone may embed it (public assets, CDNs).
        CrossOrigin => "cross-origin",
    }
}

header_enum! {
    /// `Cross-Origin-Embedder-Policy` values (off in the presets: it breaks embedding of
    /// third-party resources that do not opt in).
    CrossOriginEmbedderPolicy {
        /// Every cross-origin resource must opt in with CORP or CORS.
        RequireCorp => "require-corp",
        /// Cross-origin no-cors requests are sent without credentials.
        Credentialless => "credentialless",
    }
}
