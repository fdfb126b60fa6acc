# deb.mk - the Debian package (issue 13; debian/, README.Debian).
#
#   make deb        build the package from a clean copy of the tree (the
#                   files git tracks, with their changes not yet
#                   committed; no build products) in $(DEB_OUT)/src, with
#                   "dpkg-buildpackage -us -uc -b"; the .deb files land in
#                   $(DEB_OUT)/ and lintian's verdict is printed
#   make deb-clean  remove $(DEB_OUT)
#
# Install with "apt install ./$(DEB_OUT)/smtpfe_VERSION_amd64.deb".
# Needs git, dpkg-dev, debhelper and the build dependencies in
# debian/control; lintian when installed.  tests/ci/70-deb.sh builds,
# installs, upgrades, removes and purges it.

DEB_OUT	?= deb-out

deb:
	@command -v dpkg-buildpackage >/dev/null || \
	    { echo "deb: dpkg-buildpackage missing (apt-get install" \
	    "dpkg-dev debhelper)" >&2; exit 1; }
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_OUT)/src
	rev=$$(git stash create) && git archive $${rev:-HEAD} | \
	    tar -x -C $(DEB_OUT)/src
	cd $(DEB_OUT)/src && dpkg-buildpackage -us -uc -b
	@if command -v lintian >/dev/null; then \
	    echo "== lintian $(DEB_OUT)/*.changes"; \
	    lintian -I -E --pedantic --show-overrides $(DEB_OUT)/*.changes; \
	else echo "deb: lintian is not installed: not checked" >&2; fi
	@ls -l $(DEB_OUT)/*.deb

deb-clean:
	rm -rf $(DEB_OUT)

.PHONY: deb deb-clean
