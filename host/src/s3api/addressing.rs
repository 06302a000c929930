//! Virtual-host addressing: which requests name the bucket in `Host`.
//!
//! A request whose `Host` (port aside) is `<bucket>.<domain>` for one of the
//! configured `s3_api.domains` names `<bucket>` there, and its path is the
//! key (`GET /photos/cat.jpg` on `tiered.localhost:7071`). Every other host
//! is path-style (`/<bucket>/<key>`): the bare domain, an IP address (s3s
//! never asks about those), or a name the endpoint was not told about (a
//! load balancer's), so that path-style clients work whatever name they use.

use std::borrow::Cow;

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// The configured base domains.
#[derive(Debug, Clone)]
pub struct VirtualHosts {
    domains: Vec<String>,
}

impl VirtualHosts {
    pub fn new(domains: &[String]) -> VirtualHosts {
        VirtualHosts { domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect() }
    }

    /// The bucket `host` names, if it is `<bucket>.<domain>`.
    pub fn bucket_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = strip_port(host);
        self.domains.iter().find_map(|domain| {
            let bucket = name.len().checked_sub(domain.len() + 1).map(|end| &name[..end])?;
            let suffix = &name[bucket.len()..];
            (suffix.len() == domain.len() + 1
                && suffix.starts_with('.')
                && suffix[1..].eq_ignore_ascii_case(domain)
                && !bucket.is_empty())
            .then_some(bucket)
        })
    }
}

impl S3Host for VirtualHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(Cow::Borrowed(host)).with_bucket(Cow::Borrowed(bucket)),
            None => VirtualHost::new(Cow::Borrowed(host)),
        })
    }
}

/// `host` without a trailing `:port`.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::VirtualHosts;

    #[test]
    fn a_subdomain_of_a_configured_domain_names_the_bucket() {
        let hosts = VirtualHosts::new(&["localhost".into(), "s3.example.com".into()]);
        assert_eq!(hosts.bucket_of("tiered.localhost:7071"), Some("tiered"));
        assert_eq!(hosts.bucket_of("tiered.localhost"), Some("tiered"));
        assert_eq!(hosts.bucket_of("my.data.s3.example.com"), Some("my.data"));
        assert_eq!(hosts.bucket_of("localhost:7071"), None, "the bare domain is path-style");
        assert_eq!(hosts.bucket_of("example.org:80"), None, "an unknown name is path-style");
        assert_eq!(hosts.bucket_of("xlocalhost"), None);
        assert_eq!(hosts.bucket_of(".localhost"), None);
    }
}
